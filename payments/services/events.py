"""Stripe's events, stored once and handed to the service for the payment each is about; and
reconciliation, for what no event delivered."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from payments import stripe_client
from payments.erase import stripe_scrub
from payments.models import StripeEvent
from payments.services.card import (
    checkout_session_apply,
    checkout_session_expired,
    invoice_apply,
    invoice_failed_apply,
    subscription_apply,
)
from payments.services.refunds import charge_refunded_apply, refunds_retry_pending

logger = logging.getLogger(__name__)


# --- Events -----------------------------------------------------------------------------------

_HANDLERS: dict[str, Any] = {
    "checkout.session.completed": lambda obj: checkout_session_apply(session=obj),
    "checkout.session.async_payment_succeeded": lambda obj: checkout_session_apply(session=obj),
    "checkout.session.expired": lambda obj: checkout_session_expired(session=obj),
    "invoice.paid": lambda obj: invoice_apply(invoice=obj),
    "invoice.payment_failed": lambda obj: invoice_failed_apply(invoice=obj),
    "customer.subscription.updated": lambda obj: subscription_apply(subscription=obj),
    "customer.subscription.deleted": lambda obj: subscription_apply(subscription=obj),
    "charge.refunded": lambda obj: charge_refunded_apply(charge=obj),
}


def stripe_event_receive(*, event: dict[str, Any]) -> str:
    """Store a verified event (once, by its id) and apply it. A replay of an event already
    applied changes nothing; one whose handling failed before is tried again."""
    event_id = str(event.get("id") or "")
    kind = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object")
    if not event_id or not kind or not isinstance(obj, dict):
        return "ignored: not an event"
    try:
        with transaction.atomic(durable=True):
            # Stored without the names, emails, phones and addresses Stripe sends: nothing
            # reads them back (the handlers take the event as it came), and a stored copy of
            # a member's or a giver's details would outlive an erasure (payments/erase.py).
            stored = StripeEvent.objects.create(
                event_id=event_id, type=kind, payload=stripe_scrub(event)
            )
    except IntegrityError:
        StripeEvent.objects.filter(event_id=event_id).update(deliveries=F("deliveries") + 1)
        stored = StripeEvent.objects.get(event_id=event_id)
        if stored.processed_at is not None:
            return f"replay: {stored.outcome}"
    handler = _HANDLERS.get(kind)
    outcome = handler(obj) if handler else "ignored: event type not used"
    StripeEvent.objects.filter(pk=stored.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), outcome=outcome[:300]
    )
    logger.info("stripe event %s %s: %s", event_id, kind, outcome)
    return str(outcome)


# --- Reconciliation ---------------------------------------------------------------------------


def stripe_reconcile(*, days: int | None = None) -> dict[str, int]:
    """Apply every paid Checkout session and invoice of the last `days` days that no webhook
    delivered, and settle refunds left pending by a lost answer. Running it twice changes
    nothing the first run did not."""
    since = timezone.now() - timedelta(days=days or settings.STRIPE_RECONCILE_DAYS)
    created = {"gte": int(since.timestamp())}
    counts = {"sessions": 0, "invoices": 0, "refunds": 0, "applied": 0}
    for session in stripe_client.checkout_sessions_list(created=created):
        if session.get("status") != "complete" or session.get("payment_status") != "paid":
            continue
        counts["sessions"] += 1
        if checkout_session_apply(session=session).startswith("applied"):
            counts["applied"] += 1
    for invoice in stripe_client.invoices_list(created=created, status="paid"):
        counts["invoices"] += 1
        if invoice_apply(invoice=invoice).startswith("applied"):
            counts["applied"] += 1
    counts["refunds"] = refunds_retry_pending()
    return counts
