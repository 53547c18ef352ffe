"""Money in by card: what Stripe tells us (webhooks, and reconciliation when a webhook never
came), applied to the books exactly once.

Each payment is keyed on the Stripe object that carries the money, never on the event that
told us: a token pack on its Checkout session, a year on its invoice. The Payment row's
unique (circle, method, reference) holds that in the database, and the ledger's purchase is keyed
on the same id, so a duplicate delivery, two deliveries at once, a missed one found later by
reconciliation, or events arriving in any order, all give the same books. A session, invoice
or charge that is not ours (no row of ours names it) is acknowledged and ignored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from djmoney.money import Money

from members.models import Member
from members.services import audit_record
from payments import stripe_client
from payments.erase import gift_memo
from payments.models import (
    CheckoutSession,
    CheckoutStatus,
    MembershipPeriod,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    StripeSubscription,
)
from payments.services.checkout import checkout_metadata
from payments.services.gifts import gift_tell
from payments.services.membership import (
    membership_period_add,
    membership_renewal_failed,
)
from payments.services.offline import price_of
from tokens.services import purchase_credit

logger = logging.getLogger(__name__)


def money_from_pence(pence: int, currency: str) -> Money:
    return Money(Decimal(pence) / 100, (currency or "gbp").upper())


def is_duplicate(exc: IntegrityError) -> bool:
    message = str(exc)
    return "unique" in message.lower() or "duplicate" in message.lower()


# --- Whose is it? ---------------------------------------------------------------------------


def _checkout_named(metadata: dict[str, Any] | None) -> CheckoutSession | None:
    """Our checkout row that Stripe's metadata names, if the member and circle agree with it."""
    metadata = metadata or {}
    raw = str(metadata.get("circle_checkout_id", ""))
    member = str(metadata.get("circle_member_id", ""))
    if not (raw.isascii() and raw.isdigit() and member.isascii() and member.isdigit()):
        return None
    checkout = (
        CheckoutSession.objects.select_related("circle", "member")
        .filter(pk=int(raw), member_id=int(member))
        .first()
    )
    if checkout is None or checkout.circle.slug != metadata.get("circle"):
        return None
    return checkout


def _our_session(session: dict[str, Any]) -> CheckoutSession | None:
    found = (
        CheckoutSession.objects.select_related("circle", "member")
        .filter(stripe_session_id=session["id"])
        .first()
    )
    if found is not None:
        return found
    # The webhook may come before we stored the session id (Stripe answered, then our write
    # waited): the metadata names our row, whose id must then still be empty.
    named = _checkout_named(session.get("metadata"))
    if named is None or named.stripe_session_id not in (None, session["id"]):
        return None
    CheckoutSession.objects.filter(pk=named.pk, stripe_session_id__isnull=True).update(
        stripe_session_id=session["id"]
    )
    return named


def _subscription_owner(
    subscription_id: str | None, metadata: dict[str, Any] | None
) -> StripeSubscription | None:
    """Our record of a subscription, made from the checkout its metadata names the first time
    we hear of it (by whichever event comes first)."""
    if not subscription_id:
        return None
    found = StripeSubscription.objects.select_related("member__circle", "checkout").filter(
        stripe_subscription_id=subscription_id
    )
    if (row := found.first()) is not None:
        return row
    checkout = _checkout_named(metadata)
    if checkout is None and not metadata:
        # An older API version's invoice may not carry the subscription's metadata: ask.
        try:
            metadata = stripe_client.subscription_retrieve(subscription_id).get("metadata")
        except stripe_client.StripeError:
            return None  # Stripe does not know it either (a 404): not ours
        checkout = _checkout_named(metadata)
    if checkout is None or checkout.purpose != PaymentPurpose.MEMBERSHIP:
        return None
    try:
        with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
            StripeSubscription.objects.create(
                circle=checkout.circle,
                member=checkout.member,
                checkout=checkout,
                stripe_subscription_id=subscription_id,
                status="active",
            )
            audit_record(
                circle=checkout.circle,
                action="payment.subscription_started",
                member=checkout.member,
                data={"stripe_subscription_id": subscription_id, "checkout_id": checkout.pk},
            )
    except IntegrityError:
        pass  # recorded meanwhile by another event about it
    return found.first()


def _invoice_subscription(invoice: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    # API versions since 2025-03 put it under parent.subscription_details; older ones at the top.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription") or invoice.get("subscription")
    return subscription, details.get("metadata") or {}


def _invoice_owner(invoice: dict[str, Any]) -> tuple[StripeSubscription | None, str]:
    subscription_id, metadata = _invoice_subscription(invoice)
    return _subscription_owner(subscription_id, metadata), subscription_id or ""


def _invoice_recorded(invoice: dict[str, Any], member: Member) -> bool:
    return Payment.objects.filter(
        circle_id=member.circle_id, method=PaymentMethod.CARD, reference=invoice["id"]
    ).exists()


def _invoice_payment_intent(invoice: dict[str, Any]) -> str:
    for item in (invoice.get("payments") or {}).get("data") or []:
        intent = (item.get("payment") or {}).get("payment_intent")
        if intent:
            return str(intent)
    return str(invoice.get("payment_intent") or "")


# --- Applying what was paid -------------------------------------------------------------------


def checkout_session_expired(*, session: dict[str, Any]) -> str:
    """Nobody paid within Checkout's time: the row says so (a paid one stays paid)."""
    checkout = _our_session(session)
    if checkout is None:
        return "ignored: not a session of ours"
    with transaction.atomic(durable=True):
        done = CheckoutSession.objects.filter(
            pk=checkout.pk,
            payment__isnull=True,
            status__in=[CheckoutStatus.CREATED, CheckoutStatus.OPEN],
        ).update(status=CheckoutStatus.EXPIRED)
        if not done:
            return "duplicate: already closed"
        audit_record(
            circle=checkout.circle,
            action="payment.checkout_expired",
            member=checkout.member,
            data={"checkout_id": checkout.pk, "stripe_session_id": session["id"]},
        )
    return "applied: checkout expired"


def checkout_session_apply(*, session: dict[str, Any]) -> str:
    """A Checkout session completed (or its delayed payment arrived): credit what it bought, if
    it is ours and paid. Returns what happened, for the event's record."""
    checkout = _our_session(session)
    if checkout is None:
        return "ignored: not a session of ours"
    if session.get("payment_status") != "paid":
        return "waiting: not paid yet"
    if checkout.purpose == PaymentPurpose.MEMBERSHIP:
        if not session.get("invoice"):
            return "waiting: no invoice yet"
        subscription = _subscription_owner(session.get("subscription"), checkout_metadata(checkout))
        if subscription is None:
            return "ignored: no subscription"
        invoice = stripe_client.invoice_retrieve(session["invoice"])
        return invoice_apply(invoice=invoice)
    return _tokens_record(checkout=checkout, session=session)


def _tokens_record(*, checkout: CheckoutSession, session: dict[str, Any]) -> str:
    assert checkout.tokens is not None
    circle = checkout.circle
    try:
        with transaction.atomic(durable=True):
            # Two deliveries at once queue here; the second finds the payment made.
            locked = CheckoutSession.objects.select_for_update().get(pk=checkout.pk)
            if locked.payment_id is not None:
                return "duplicate: already credited"
            tokens = checkout.tokens
            paid = money_from_pence(
                int(session.get("amount_total") or 0), session.get("currency", "gbp")
            )
            payment = Payment.objects.create(
                circle=circle,
                member=checkout.member,
                purpose=PaymentPurpose.TOKENS,
                method=PaymentMethod.CARD,
                amount=checkout.amount,
                tokens=tokens,
                reference=session["id"],
                stripe_payment_intent_id=session.get("payment_intent") or "",
                checkout=locked,
            )
            posted = purchase_credit(
                member=checkout.member,
                minutes=tokens * circle.token_minutes,
                payment_key=f"stripe:{session['id']}",
                actor=None,
                # A gift names its giver through the gift, never in the ledger's own row
                # (append-only: the name could not be erased from it); tokens.memos shows
                # "Gift from <name>" (payments/erase.py, gift_memos_describe).
                memo=(
                    gift_memo(checkout_id=checkout.pk, tokens=tokens)
                    if checkout.gift_from
                    else f"{tokens} tokens bought (card)"
                ),
            )
            locked.payment = payment
            locked.status = CheckoutStatus.COMPLETED
            locked.save(update_fields=["payment", "status"])
            audit_record(
                circle=circle,
                action="payment.recorded",
                member=checkout.member,
                reason=f"Card, Stripe session {session['id']}",
                data={
                    "payment_id": payment.pk,
                    "purpose": PaymentPurpose.TOKENS,
                    "method": PaymentMethod.CARD,
                    "amount": str(price_of(checkout.amount).amount),
                    "amount_stripe_took": str(paid.amount),
                    "tokens": tokens,
                    "transaction_id": posted.transaction_id,
                },
            )
    except IntegrityError as exc:
        if is_duplicate(exc):
            return "duplicate: already credited"
        raise
    if checkout.gift_from:
        gift_tell(checkout_id=checkout.pk)  # once: it claims the checkout before it sends
    return "applied: tokens credited"


def invoice_apply(*, invoice: dict[str, Any]) -> str:
    """A paid invoice of a membership subscription: one year, once per invoice."""
    if invoice.get("status") != "paid":
        return "waiting: invoice not paid"
    subscription, subscription_id = _invoice_owner(invoice)
    if subscription is None:
        return "ignored: not a subscription of ours"
    member = subscription.member
    amount = int(invoice.get("amount_paid") or 0)
    if amount <= 0:
        return "ignored: nothing was paid"
    if _invoice_recorded(invoice, member):
        return "duplicate: year already recorded"
    first = invoice.get("billing_reason") == "subscription_create"
    try:
        with transaction.atomic(durable=True):
            # The member's lock orders two deliveries of one invoice (and two invoices).
            Member.objects.select_for_update().get(pk=member.pk)
            if _invoice_recorded(invoice, member):
                return "duplicate: year already recorded"
            checkout = subscription.checkout if first else None
            payment = Payment.objects.create(
                circle=member.circle,
                member=member,
                purpose=PaymentPurpose.MEMBERSHIP,
                method=PaymentMethod.CARD,
                amount=money_from_pence(amount, invoice.get("currency", "gbp")),  # type: ignore[misc]
                reference=invoice["id"],
                stripe_payment_intent_id=_invoice_payment_intent(invoice),
                checkout=checkout,
            )
            period = membership_period_add(
                member=member, payment=payment, stripe_subscription_id=subscription_id
            )
            if checkout is not None:
                CheckoutSession.objects.filter(pk=checkout.pk, payment__isnull=True).update(
                    payment=payment, status=CheckoutStatus.COMPLETED
                )
            audit_record(
                circle=member.circle,
                action="payment.recorded",
                member=member,
                reason=f"Card, Stripe invoice {invoice['id']}",
                data={
                    "payment_id": payment.pk,
                    "purpose": PaymentPurpose.MEMBERSHIP,
                    "method": PaymentMethod.CARD,
                    "amount": str(price_of(payment.amount).amount),
                    "paid_until": period.end.isoformat(),
                    "renewal": not first,
                },
            )
    except IntegrityError as exc:
        if is_duplicate(exc):
            return "duplicate: year already recorded"
        raise
    return "applied: year recorded"


def invoice_failed_apply(*, invoice: dict[str, Any]) -> str:
    """A renewal could not be charged: the member goes into grace, with a follow-up, once."""
    if invoice.get("billing_reason") != "subscription_cycle":
        return "ignored: not a renewal"
    subscription, _ = _invoice_owner(invoice)
    if subscription is None:
        return "ignored: not a subscription of ours"
    member = subscription.member
    if _invoice_recorded(invoice, member):
        return "ignored: this invoice was paid after all"  # a late failure after a retry paid
    created = datetime.fromtimestamp(int(invoice.get("created") or 0), tz=UTC)
    with transaction.atomic(durable=True):
        latest = MembershipPeriod.objects.filter(member=member).order_by("-end").first()
        # The renewal is of the year ending about when the invoice was made. If the member has
        # since paid further ahead (cash, say), this failure renews nothing they still owe.
        horizon = timezone.localdate(created) + timedelta(days=settings.MEMBERSHIP_REMINDER_DAYS)
        if latest is None or latest.end > horizon:
            return "ignored: the member has paid beyond this renewal"
        why = f"card renewal failed (Stripe invoice {invoice['id']})"
        if not membership_renewal_failed(member=member, period=latest, why=why):
            return "duplicate: renewal failure already recorded"
    return "applied: renewal failed, member in grace"


def subscription_apply(*, subscription: dict[str, Any]) -> str:
    """Keep our copy of a subscription's status. `canceled` is final: a late `updated` event
    does not bring it back."""
    row = _subscription_owner(subscription.get("id"), subscription.get("metadata"))
    if row is None:
        return "ignored: not a subscription of ours"
    items = (subscription.get("items") or {}).get("data") or [{}]
    end = items[0].get("current_period_end") or subscription.get("current_period_end")
    values = {
        "status": subscription.get("status") or "",
        "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
        "current_period_end": datetime.fromtimestamp(int(end), tz=UTC) if end else None,
    }
    with transaction.atomic(durable=True):
        locked = StripeSubscription.objects.select_for_update().get(pk=row.pk)
        if locked.status == "canceled":
            return "ignored: subscription already ended"
        before = {name: getattr(locked, name) for name in values}
        if before == values:
            return "duplicate: no change"
        StripeSubscription.objects.filter(pk=locked.pk).update(**values, updated_at=timezone.now())
        audit_record(
            circle=locked.circle,
            action="payment.subscription_updated",
            member=row.member,
            data={
                "stripe_subscription_id": locked.stripe_subscription_id,
                "status": values["status"],
                "cancel_at_period_end": values["cancel_at_period_end"],
            },
        )
    return f"applied: subscription {values['status']}"
