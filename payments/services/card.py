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
from django.db.models import F, Sum
from django.utils import timezone
from djmoney.money import Money

from members.models import Member
from members.services import audit_record
from payments import stripe_client
from payments.models import (
    CheckoutSession,
    CheckoutStatus,
    FollowUpKind,
    MembershipPeriod,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    Refund,
    RefundSource,
    RefundStatus,
    StripeEvent,
    StripeSubscription,
)
from payments.services.checkout import checkout_metadata
from payments.services.membership import (
    followup_queue,
    membership_period_add,
    membership_renewal_failed,
)
from payments.services.offline import price_of
from tokens.selectors import member_tokens
from tokens.services import purchase_credit, purchase_refund

logger = logging.getLogger(__name__)


def _money(pence: int, currency: str) -> Money:
    return Money(Decimal(pence) / 100, (currency or "gbp").upper())


def _pence(money: Money) -> int:
    return int((Decimal(money.amount) * 100).to_integral_value())


def _is_duplicate(exc: IntegrityError) -> bool:
    message = str(exc)
    return "unique" in message.lower() or "duplicate" in message.lower()


# --- Whose is it? ---------------------------------------------------------------------------


def _checkout_named(metadata: dict[str, Any] | None) -> CheckoutSession | None:
    """Our checkout row that Stripe's metadata names, if the member and circle agree with it."""
    metadata = metadata or {}
    raw = str(metadata.get("circle_checkout_id", ""))
    if not raw.isdigit():
        return None
    checkout = (
        CheckoutSession.objects.select_related("circle", "member")
        .filter(pk=int(raw), member_id=str(metadata.get("circle_member_id", "")) or 0)
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
            paid = _money(int(session.get("amount_total") or 0), session.get("currency", "gbp"))
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
                memo=f"{tokens} tokens bought (card)",
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
        if _is_duplicate(exc):
            return "duplicate: already credited"
        raise
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
                amount=_money(amount, invoice.get("currency", "gbp")),  # type: ignore[misc]
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
        if _is_duplicate(exc):
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


# --- Refunds ----------------------------------------------------------------------------------


def refundable_minutes(*, payment: Payment) -> int:
    """Minutes of a token payment not yet refunded (asked or done), capped by what the member
    still has unspent."""
    if payment.purpose != PaymentPurpose.TOKENS or not payment.tokens:
        return 0
    bought = payment.tokens * payment.circle.token_minutes
    taken = (
        Refund.objects.filter(payment=payment)
        .exclude(status=RefundStatus.FAILED)
        .aggregate(m=Sum("minutes"))["m"]
        or 0
    )
    return max(0, min(bought - taken, member_tokens(member=payment.member).available))


def charge_refunded_apply(*, charge: dict[str, Any]) -> str:
    """A charge was refunded, by us or in Stripe's dashboard: reflect each refund once."""
    intent = charge.get("payment_intent")
    if not intent:
        return "ignored: no payment intent"
    payment = Payment.objects.filter(
        method=PaymentMethod.CARD, stripe_payment_intent_id=intent
    ).first()
    if payment is None:
        # The refund may arrive before the payment's own event: apply the payment first.
        for session in stripe_client.checkout_sessions_list(payment_intent=intent):
            checkout_session_apply(session=session)
        payment = Payment.objects.filter(
            method=PaymentMethod.CARD, stripe_payment_intent_id=intent
        ).first()
    if payment is None:
        return "ignored: not a payment of ours"
    outcomes = [
        refund_from_stripe_record(payment=payment, refund=refund)
        for refund in stripe_client.refunds_list(payment_intent=intent)
        if refund.get("status") in ("succeeded", "pending")
    ]
    applied = sum(1 for outcome in outcomes if outcome.startswith("applied"))
    return f"applied: {applied} refund(s)" if applied else "duplicate: refunds already recorded"


def refund_from_stripe_record(*, payment: Payment, refund: dict[str, Any]) -> str:
    ours = str((refund.get("metadata") or {}).get("circle_refund_id", ""))
    if ours.isdigit() and Refund.objects.filter(pk=int(ours), payment=payment).exists():
        done = refund_succeeded(refund_id=int(ours), stripe_refund_id=refund["id"])
        return "applied: our refund confirmed" if done else "duplicate"
    if Refund.objects.filter(stripe_refund_id=refund["id"]).exists():
        return "duplicate"
    circle = payment.circle
    try:
        with transaction.atomic(durable=True):
            locked = Payment.objects.select_for_update().select_related("circle", "member")
            locked_payment = locked.get(pk=payment.pk)
            if Refund.objects.filter(stripe_refund_id=refund["id"]).exists():
                return "duplicate"
            amount = _money(int(refund["amount"]), refund.get("currency", "gbp"))
            minutes = 0
            wanted = 0
            if payment.purpose == PaymentPurpose.TOKENS:
                price = _pence(price_of(circle.token_price))
                # What the money bought back, in minutes, rounded down to the minute.
                wanted = int(refund["amount"]) * circle.token_minutes // max(price, 1)
                minutes = min(wanted, refundable_minutes(payment=locked_payment))
            row = Refund.objects.create(
                circle=circle,
                payment=locked_payment,
                member=locked_payment.member,
                tokens=minutes // circle.token_minutes,
                minutes=minutes,
                amount=amount,  # type: ignore[misc]  # a MoneyField takes Money
                status=RefundStatus.SUCCEEDED,
                source=RefundSource.STRIPE,
                stripe_refund_id=refund["id"],
                reason="Refunded in Stripe's dashboard",
            )
            if minutes:
                purchase_refund(
                    member=locked_payment.member,
                    minutes=minutes,
                    refund_key=str(row.pk),
                    actor=None,
                    reason=f"Card refund {refund['id']} made in Stripe",
                    memo="Tokens refunded (card)",
                )
            if minutes < wanted or payment.purpose == PaymentPurpose.MEMBERSHIP:
                followup_queue(
                    member=locked_payment.member,
                    kind=FollowUpKind.REFUND_SHORTFALL,
                    refund=row,
                    note=(
                        f"{amount} refunded in Stripe for payment {payment.pk}; "
                        + (
                            f"only {minutes} of {wanted} minutes were unspent to take back."
                            if payment.purpose == PaymentPurpose.TOKENS
                            else "a membership fee: decide whether the year stands."
                        )
                    ),
                )
            audit_record(
                circle=circle,
                action="payment.refunded",
                member=locked_payment.member,
                reason="Refunded in Stripe's dashboard",
                data={
                    "payment_id": payment.pk,
                    "refund_id": row.pk,
                    "stripe_refund_id": refund["id"],
                    "amount": str(amount.amount),
                    "minutes": minutes,
                },
            )
    except IntegrityError as exc:
        if _is_duplicate(exc):
            return "duplicate"
        raise
    return "applied: refund recorded"


def refund_succeeded(*, refund_id: int, stripe_refund_id: str) -> bool:
    """Stripe confirmed one of our refunds. Once: a conditional update from `pending`."""
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        done = Refund.objects.filter(pk=refund_id, status=RefundStatus.PENDING).update(
            status=RefundStatus.SUCCEEDED, stripe_refund_id=stripe_refund_id
        )
        if done:
            refund = Refund.objects.select_related("member").get(pk=refund_id)
            audit_record(
                circle=refund.member.circle,
                action="payment.refunded",
                member=refund.member,
                data={
                    "payment_id": refund.payment_id,
                    "refund_id": refund.pk,
                    "stripe_refund_id": stripe_refund_id,
                    "amount": str(price_of(refund.amount).amount),
                    "minutes": refund.minutes,
                },
            )
    return bool(done)


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
            stored = StripeEvent.objects.create(event_id=event_id, type=kind, payload=event)
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
    from payments.services.refunds import refunds_retry_pending

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
