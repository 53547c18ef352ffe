"""Starting a card payment: a Stripe Checkout session for a year's membership (subscription mode,
renewed yearly by Stripe) or for a pack of tokens (payment mode).

The row is written first and committed; its id keys the call to Stripe, so a retry (by the
library after a dropped connection, or by the member pressing the button again on the same row)
gets the same session back instead of a second one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from djmoney.money import Money

from circle.errors import Conflict, InvalidInput
from members.models import Member
from members.selectors import Caller
from members.services import audit_record
from payments import stripe_client
from payments.models import (
    CheckoutSession,
    CheckoutStatus,
    PaymentPurpose,
    StripeCustomer,
)
from payments.selectors import member_renews_by_card
from payments.services.offline import MAX_TOKENS_PER_PAYMENT, price_of

# Stripe statuses of a subscription that will charge again (so a second one would charge twice).


def pence(money: Money) -> int:
    return int((Decimal(money.amount) * 100).to_integral_value())


def checkout_metadata(checkout: CheckoutSession) -> dict[str, str]:
    """What Stripe carries back to us on the session, its subscription, invoices and payment:
    our row's id, checked against the member and circle it names."""
    return {
        "circle_checkout_id": str(checkout.pk),
        "circle_member_id": str(checkout.member_id),
        "circle": checkout.circle.slug,
    }


def _customer_for(member: Member) -> str:
    """The member's Stripe customer, made once: the key is the member's, so two checkouts at once
    make one customer."""
    found = StripeCustomer.objects.filter(member=member).first()
    if found is not None:
        return found.stripe_customer_id
    params: dict[str, Any] = {
        "name": member.full_name,
        "metadata": {"circle_member_id": str(member.pk), "circle": member.circle.slug},
    }
    if member.email:
        params["email"] = member.email
    if member.phone:
        params["phone"] = member.phone
    customer = stripe_client.customer_create(
        params=params, idempotency_key=f"circle-customer-{member.pk}"
    )
    try:
        with transaction.atomic(durable=True):
            StripeCustomer.objects.create(
                circle=member.circle, member=member, stripe_customer_id=customer["id"]
            )
            audit_record(
                circle=member.circle,
                action="payment.customer_created",
                member=member,
                data={"stripe_customer_id": customer["id"]},
            )
    except IntegrityError:
        pass  # made meanwhile by the other checkout, with the same key: the same customer
    return str(customer["id"])


def _return_urls(return_path: str) -> dict[str, str]:
    """Back to the page the payment started from (the member's payments page, or a card
    payment link's), which says the payment is being confirmed (the webhook, not this return,
    applies it) or that nothing was taken."""
    base = settings.STRIPE_CHECKOUT_RETURN_URL.rstrip("/")
    return {
        "success_url": f"{base}{return_path}?checkout=paid",
        "cancel_url": f"{base}{return_path}?checkout=cancelled",
    }


def _start(
    *,
    member: Member,
    caller: Caller,
    purpose: str,
    amount: Money,
    tokens: int | None,
    line_item: dict[str, Any],
    return_path: str,
    reason: str,
    gift_from: str = "",
    gift_email: str = "",
) -> CheckoutSession:
    stripe_client.client()  # refuses before anything is written when Stripe is not set up
    with transaction.atomic(durable=True):
        checkout = CheckoutSession.objects.create(
            circle=member.circle,
            member=member,
            purpose=purpose,
            tokens=tokens,
            amount=amount,  # type: ignore[misc]  # a MoneyField takes Money
            created_by=caller.user,
            gift_from=gift_from,
            gift_email=gift_email,
        )
        audit_record(
            circle=member.circle,
            action="payment.checkout_started",
            caller=caller,
            member=member,
            reason=reason,
            data={
                "checkout_id": checkout.pk,
                "purpose": purpose,
                "tokens": tokens,
                "amount": str(amount.amount),
                **({"gift_from": gift_from} if gift_from else {}),
            },
        )
    metadata = checkout_metadata(checkout)
    if gift_from:
        metadata["circle_gift_from"] = gift_from
    params: dict[str, Any] = {
        "mode": "subscription" if purpose == PaymentPurpose.MEMBERSHIP else "payment",
        "customer": _customer_for(member),
        "client_reference_id": str(checkout.pk),
        "line_items": [line_item],
        "metadata": metadata,
        **_return_urls(return_path),
    }
    if purpose == PaymentPurpose.MEMBERSHIP:
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
        if gift_email:
            # The giver is not the member's Stripe customer: Stripe mails them the receipt.
            params["payment_intent_data"]["receipt_email"] = gift_email
    session = stripe_client.checkout_session_create(
        params=params, idempotency_key=f"circle-checkout-{checkout.pk}"
    )
    with transaction.atomic(durable=True):
        # A webhook for this session may have landed first and named it; only an empty id is
        # set, and a session already paid stays `completed`.
        CheckoutSession.objects.filter(pk=checkout.pk, stripe_session_id__isnull=True).update(
            stripe_session_id=session["id"]
        )
        CheckoutSession.objects.filter(pk=checkout.pk, status=CheckoutStatus.CREATED).update(
            status=CheckoutStatus.OPEN
        )
        CheckoutSession.objects.filter(pk=checkout.pk).update(url=session["url"] or "")
        audit_record(
            circle=member.circle,
            action="payment.checkout_opened",
            caller=caller,
            member=member,
            reason=reason,
            data={"checkout_id": checkout.pk, "stripe_session_id": session["id"]},
        )
    checkout.refresh_from_db()
    return checkout


MEMBER_PAY_PAGE = "/my/pay/"


def membership_checkout_create(
    *, member: Member, caller: Caller, return_path: str = MEMBER_PAY_PAGE, reason: str = ""
) -> CheckoutSession:
    """A Checkout for a year's membership at the circle's fee, renewed yearly by card.
    `return_path`: the page of this site Stripe sends the payer back to; `reason`, for the
    audit rows (a card payment link's Checkout has no signed-in caller, and says so)."""
    circle = member.circle
    fee = price_of(circle.membership_fee)
    if fee.amount <= 0:
        raise InvalidInput("no_fee", f"{circle.name} charges no membership fee.")
    if member_renews_by_card(member=member):
        raise Conflict(
            "subscription_exists",
            "This member already pays by card each year; nothing more is needed.",
        )
    line_item = {
        "quantity": 1,
        "price_data": {
            "currency": str(fee.currency).lower(),
            "unit_amount": pence(fee),
            "recurring": {"interval": "year"},
            "product_data": {"name": f"{circle.name} membership (a year)"},
        },
    }
    return _start(
        member=member,
        caller=caller,
        purpose=PaymentPurpose.MEMBERSHIP,
        amount=fee,
        tokens=None,
        line_item=line_item,
        return_path=return_path,
        reason=reason,
    )


def tokens_checkout_create(
    *,
    member: Member,
    caller: Caller,
    tokens: Any,
    return_path: str = MEMBER_PAY_PAGE,
    reason: str = "",
    gift_from: str = "",
    gift_email: str = "",
) -> CheckoutSession:
    """A Checkout for a pack of tokens at the circle's token price (`return_path` and `reason`
    as for membership). `gift_from`: the name of whoever gives them (a gift link's payer), kept
    on the row and in Stripe's metadata, and named on the member's statement once paid;
    `gift_email`, where Stripe sends that payer's receipt."""
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        raise InvalidInput("invalid", "tokens: a whole number of tokens.", field="tokens")
    if not 1 <= tokens <= MAX_TOKENS_PER_PAYMENT:
        raise InvalidInput(
            "invalid", f"Between 1 and {MAX_TOKENS_PER_PAYMENT} tokens at a time.", field="tokens"
        )
    circle = member.circle
    price = price_of(circle.token_price)
    if price.amount <= 0:
        raise InvalidInput("no_price", f"{circle.name} sells no tokens.", field="tokens")
    hours = circle.token_minutes / 60
    line_item = {
        "quantity": tokens,
        "price_data": {
            "currency": str(price.currency).lower(),
            "unit_amount": pence(price),
            "product_data": {"name": f"{circle.name} token ({hours:g} hour of help)"},
        },
    }
    return _start(
        member=member,
        caller=caller,
        purpose=PaymentPurpose.TOKENS,
        amount=price * tokens,
        tokens=tokens,
        line_item=line_item,
        return_path=return_path,
        reason=reason,
        gift_from=gift_from,
        gift_email=gift_email,
    )
