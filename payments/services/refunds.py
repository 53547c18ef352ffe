"""Refunds of card payments: a coordinator's (tokens back first, then Stripe asked), and those
made in Stripe's dashboard (reflected from `charge.refunded`, each Stripe refund once).

Order matters, for money: the tokens leave the wallet first (in our transaction, refused if
they are not there), then Stripe is asked, with an idempotency key from our refund's row. If
Stripe refuses, the tokens are credited back; if Stripe cannot be reached, the refund stays
`pending` and reconciliation asks again with the same key, so the money goes back once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from attention.models import ItemKind
from circle.errors import Conflict, InvalidInput
from members.selectors import Caller, own_record_refuse
from members.services import audit_record
from payments import stripe_client
from payments.models import (
    Payment,
    PaymentMethod,
    PaymentPurpose,
    Refund,
    RefundSource,
    RefundStatus,
)
from payments.services.card import checkout_session_apply, is_duplicate, money_from_pence
from payments.services.checkout import pence
from payments.services.membership import attention_raise
from payments.services.offline import price_of
from tokens.selectors import member_tokens
from tokens.services import purchase_credit, purchase_refund


def token_refund_create(*, payment: Payment, tokens: Any, reason: str, caller: Caller) -> Refund:
    """Refund `tokens` of a card token payment: the ledger takes exactly those tokens back and
    Stripe returns their price. More than is unspent is refused, and nothing is written. Never
    by staff for their own member record (403 `own_record`)."""
    own_record_refuse(actor=caller.user, member=payment.member, what="refund payments")
    if payment.method != PaymentMethod.CARD:
        raise InvalidInput(
            "not_a_card_payment",
            "Only card payments are refunded here; give cash back by hand and adjust the ledger.",
        )
    if payment.purpose != PaymentPurpose.TOKENS:
        raise InvalidInput("not_a_token_payment", "Only token purchases are refunded here.")
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
        raise InvalidInput("invalid", "tokens: a whole number, at least 1.", field="tokens")
    if not (reason or "").strip():
        raise InvalidInput("required", "reason: Say why.", field="reason")
    if not payment.stripe_payment_intent_id:
        raise Conflict("not_refundable", "Stripe has not told us how this payment was made.")
    circle = payment.circle
    minutes = tokens * circle.token_minutes
    with transaction.atomic(durable=True):
        # Two refunds of one payment at once queue here; the second sees the first's minutes.
        locked = (
            Payment.objects.select_for_update()
            .select_related("circle", "member")
            .get(pk=payment.pk)
        )
        unspent = refundable_minutes(payment=locked)
        if minutes > unspent:
            raise Conflict(
                "more_than_unspent",
                f"Only {unspent // circle.token_minutes} tokens of this payment are unspent and "
                "not yet refunded.",
                field="tokens",
            )
        refund = Refund.objects.create(
            circle=circle,
            payment=locked,
            member=locked.member,
            tokens=tokens,
            minutes=minutes,
            amount=price_of(circle.token_price) * tokens,  # type: ignore[misc]
            status=RefundStatus.PENDING,
            source=RefundSource.COORDINATOR,
            reason=reason.strip(),
            requested_by=caller.user,
        )
        # The wallet's CHECK refuses this if the tokens were spent since the check above.
        posted = purchase_refund(
            member=locked.member,
            minutes=minutes,
            refund_key=str(refund.pk),
            actor=caller.user,
            reason=reason,
            memo=f"{tokens} tokens refunded (card)",
        )
        audit_record(
            circle=circle,
            action="payment.refund_requested",
            caller=caller,
            member=locked.member,
            reason=reason.strip(),
            data={
                "payment_id": locked.pk,
                "refund_id": refund.pk,
                "tokens": tokens,
                "amount": str(price_of(refund.amount).amount),
                "transaction_id": posted.transaction_id,
            },
        )
    _ask_stripe(refund)
    refund.refresh_from_db()
    if refund.status == RefundStatus.FAILED:
        raise Conflict("refund_refused", "Stripe refused the refund; the tokens are back.")
    return refund


def _ask_stripe(refund: Refund) -> None:
    payment = refund.payment
    try:
        answer = stripe_client.refund_create(
            params={
                "payment_intent": payment.stripe_payment_intent_id,
                "amount": pence(price_of(refund.amount)),
                "reason": "requested_by_customer",
                "metadata": {"circle_refund_id": str(refund.pk), "circle": payment.circle.slug},
            },
            idempotency_key=f"circle-refund-{refund.pk}",
        )
    except (stripe_client.PaymentsUnavailable, stripe_client.StripeServerError):
        # Unknown outcome (no answer, or Stripe's own error after the library's retries): it
        # stays pending and reconciliation asks again with the same key, which Stripe answers
        # with the first outcome.
        return
    except stripe_client.StripeError as exc:
        _refund_failed(refund, str(getattr(exc, "user_message", "") or exc))
        return
    refund_succeeded(refund_id=refund.pk, stripe_refund_id=answer["id"])


def _refund_failed(refund: Refund, why: str) -> None:
    with transaction.atomic(durable=True):
        done = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.FAILED
        )
        if not done:
            return
        posted = purchase_credit(
            member=refund.member,
            minutes=refund.minutes,
            payment_key=f"refund-refused:{refund.pk}",
            actor=None,
            memo="Refund refused by Stripe; tokens given back",
        )
        audit_record(
            circle=refund.circle,
            action="payment.refund_failed",
            member=refund.member,
            reason=why[:500],
            data={"refund_id": refund.pk, "transaction_id": posted.transaction_id},
        )


def refunds_retry_pending(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Ask Stripe again, with the same keys, about refunds whose answer was lost."""
    pending = Refund.objects.filter(
        status=RefundStatus.PENDING,
        source=RefundSource.COORDINATOR,
        created_at__lte=timezone.now() - older_than,
    ).select_related("payment__circle", "member")
    count = 0
    for refund in pending:
        _ask_stripe(refund)
        count += 1
    return count


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
            amount = money_from_pence(int(refund["amount"]), refund.get("currency", "gbp"))
            minutes = 0
            wanted = 0
            if payment.purpose == PaymentPurpose.TOKENS:
                price = pence(price_of(circle.token_price))
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
                attention_raise(
                    member=locked_payment.member,
                    kind=ItemKind.REFUND_SHORTFALL,
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
        if is_duplicate(exc):
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
