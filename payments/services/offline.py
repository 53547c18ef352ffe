"""Money in by hand: payments recorded by staff (cash, cheque, bank transfer), and the
membership years and tokens they buy. Card payments (payments/services/card.py) share the same
periods and the ledger's purchase service."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from djmoney.money import Money

from circle import words
from circle.errors import Conflict, InvalidInput
from members.models import Member
from members.selectors import Caller, own_record_refuse
from members.services import audit_record
from payments.models import OFFLINE_METHODS, Payment, PaymentMethod, PaymentPurpose
from payments.services.membership import membership_period_add
from tokens.services import purchase_credit

# A pack bought at once: at least one token, and no more than a circle would sell in one go.
MAX_TOKENS_PER_PAYMENT = 100


def price_of(value: object) -> Money:
    """A circle's fee or price. django-stubs types a MoneyField as a DecimalField; django-money
    gives its value as Money."""
    assert isinstance(value, Money)
    return value


def _amount(raw: Decimal | None, *, expected: Money) -> Money:
    if raw is None:
        return expected
    if raw != expected.amount:
        raise InvalidInput(
            "amount_mismatch",
            f"The amount must be {words.money(expected)}, the circle's price.",
            field="amount",
        )
    return expected


def offline_payment_record(
    *,
    member: Member,
    caller: Caller,
    purpose: str,
    method: str,
    reference: str,
    tokens: int | None = None,
    amount: Decimal | None = None,
    call_reference: str = "",
) -> Payment:
    """Record money a member handed to staff, and give them what it bought: a year of
    membership (stored as a period) or tokens (credited once, keyed on this payment). Staff
    never record one for their own member record (403 `own_record`): nobody would check that
    the cash was ever handed over. An operator on the phone gives the `call_reference`, kept on
    the audit row (the member reads it among what was done on their behalf)."""
    own_record_refuse(actor=caller.user, member=member, what="record payments")
    if method not in OFFLINE_METHODS:
        raise InvalidInput("invalid_choice", "Use cash, cheque or bank_transfer.", field="method")
    reference = reference.strip()
    if not reference:
        raise InvalidInput(
            "required", "reference: Give the receipt or cheque reference.", field="reference"
        )
    circle = member.circle
    if purpose == PaymentPurpose.MEMBERSHIP:
        if tokens is not None:
            raise InvalidInput("invalid", "A membership payment buys no tokens.", field="tokens")
        price = _amount(amount, expected=price_of(circle.membership_fee))
    elif purpose == PaymentPurpose.TOKENS:
        if tokens is None:
            raise InvalidInput(
                "required", "tokens: Say how many tokens were bought.", field="tokens"
            )
        if not 1 <= tokens <= MAX_TOKENS_PER_PAYMENT:
            raise InvalidInput(
                "invalid",
                f"Between 1 and {MAX_TOKENS_PER_PAYMENT} tokens at a time.",
                field="tokens",
            )
        price = _amount(amount, expected=price_of(circle.token_price) * tokens)
    else:
        raise InvalidInput("invalid_choice", "Pay for membership or tokens.", field="purpose")
    if price.amount <= 0:
        raise InvalidInput("invalid", "This circle charges nothing for that.", field="purpose")

    try:
        with transaction.atomic(durable=True):
            payment = Payment.objects.create(
                circle=circle,
                member=member,
                purpose=purpose,
                method=method,
                amount=price,  # type: ignore[misc]  # a MoneyField takes Money (see _price)
                tokens=tokens,
                reference=reference,
                recorded_by=caller.user,
            )
            detail: dict[str, object]
            if purpose == PaymentPurpose.MEMBERSHIP:
                # Made with this payment, the period is remembered on it (a one-to-one).
                period = membership_period_add(member=member, payment=payment, caller=caller)
                detail = {"paid_until": period.end.isoformat()}
            else:
                _no_period(payment)
                assert tokens is not None
                posted = purchase_credit(
                    member=member,
                    minutes=tokens * circle.token_minutes,
                    payment_key=f"payment:{payment.pk}",
                    actor=caller.user,
                    memo=f"{tokens} tokens bought ({PaymentMethod(method).label.lower()})",
                )
                detail = {"transaction_id": posted.transaction_id}
            audit_record(
                circle=circle,
                action="payment.recorded",
                caller=caller,
                member=member,
                reason=f"{PaymentMethod(method).label} {reference}",
                call_reference=call_reference.strip()[:100],
                data={
                    "payment_id": payment.pk,
                    "purpose": purpose,
                    "method": method,
                    "amount": str(price.amount),
                    "tokens": tokens,
                    **detail,
                },
            )
    except IntegrityError as exc:
        # PostgreSQL names the constraint; SQLite names its columns.
        message = str(exc)
        if (
            "payments_payment_unique_reference" in message
            or "payments_payment.reference" in message
        ):
            raise Conflict(
                "duplicate_reference",
                f"A {PaymentMethod(method).label.lower()} payment with reference {reference!r} "
                "is already recorded.",
                field="reference",
            ) from None
        raise
    # Nothing of a payment just made has been refunded: said here, so that showing it does not
    # ask the database (as a list of payments annotates it, `member_payments`).
    setattr(payment, "refunded_tokens", 0)  # noqa: B010 (an annotation's name, not a field)
    return payment


def _no_period(payment: Payment) -> None:
    """A payment for tokens buys no membership year: remember that its reverse one-to-one is
    empty, as reading it would (`payment.period` then raises DoesNotExist without a query)."""
    Payment._meta.get_field("period").set_cached_value(payment, None)
