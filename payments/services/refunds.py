"""A coordinator refunds unspent tokens bought by card.

Order matters, for money: the tokens leave the wallet first (in our transaction, refused if
they are not there), then Stripe is asked, with an idempotency key from our refund's row. If
Stripe refuses, the tokens are credited back; if Stripe cannot be reached, the refund stays
`pending` and reconciliation asks again with the same key, so the money goes back once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from circle.errors import Conflict, InvalidInput
from members.selectors import Caller
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
from payments.services.card import refund_succeeded, refundable_minutes
from payments.services.offline import price_of
from tokens.services import purchase_credit, purchase_refund


def _pence(refund: Refund) -> int:
    return int(price_of(refund.amount).amount * 100)


def token_refund_create(*, payment: Payment, tokens: Any, reason: str, caller: Caller) -> Refund:
    """Refund `tokens` of a card token payment: the ledger takes exactly those tokens back and
    Stripe returns their price. More than is unspent is refused, and nothing is written."""
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
                "amount": _pence(refund),
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
