"""Payments' part of erasing a member (members/erasure.py), and the scrubbing of the Stripe
events we store.

Payments stay (the money, its method, reference and period are the circle's accounts, which
the law keeps for six years). What goes: a gift's giver (their name and email, a third
party's data held because of the member) and, in the Stripe events we stored, every name,
email, phone number and address. Stripe's own ids, amounts and our metadata (which member and
circle) stay: they are what makes handling an event idempotent and what reconciles the books.
From issue 14 on, events are stored already scrubbed (`stripe_scrub`, in events.py)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from circle.errors import Conflict, DomainError
from members.erasure import Erasure, json_text
from members.models import Member
from payments.models import CheckoutSession, Payment, Refund, StripeCustomer, StripeEvent
from payments.selectors import LIVE_SUBSCRIPTION_STATUSES

# Keys of a Stripe object that carry a person's details, anywhere in an event.
_PERSONAL = frozenset(
    {
        "name",
        "email",
        "phone",
        "address",
        "shipping",
        "shipping_details",
        "billing_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "receipt_email",
        "circle_gift_from",
    }
)


def stripe_scrub(value: Any) -> Any:
    """A Stripe event (or any part of one) with every personal value emptied (None), keys
    kept, so the stored row still shows what arrived but not who."""
    if isinstance(value, dict):
        return {
            key: (None if key in _PERSONAL and item not in (None, "", {}) else stripe_scrub(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [stripe_scrub(item) for item in value]
    return value


_GIFT_REF = re.compile(r"^Gift (\d+):")


def gift_memo(*, checkout_id: int, tokens: int) -> str:
    """A card gift's ledger memo: the gift by its id, never the giver's name."""
    return f"Gift {checkout_id}: {tokens} tokens (card)"


def gift_memos_describe(rows: list[tuple[int, str]]) -> dict[int, str]:
    """tokens.memos' describer for gifts: "Gift 45: 2 tokens (card)" reads "Gift from Dora:
    2 tokens (card)", the name read through the gift (and "a friend" once it is erased).
    One query, only when the page holds a gift."""
    ids = {tx_id: int(found[1]) for tx_id, memo in rows if (found := _GIFT_REF.match(memo))}
    if not ids:
        return {}
    givers = dict(
        CheckoutSession.objects.filter(pk__in=set(ids.values())).values_list("pk", "gift_from")
    )
    memos = dict(rows)
    return {
        tx_id: _GIFT_REF.sub(f"Gift from {givers.get(gift) or 'a friend'}:", memos[tx_id])
        for tx_id, gift in ids.items()
    }


def erase_refusal(member: Member) -> DomainError | None:
    """A card that still renews their membership would keep charging someone we no longer
    know: its renewal is cancelled first (then it ends with the paid year)."""
    renews = member.subscriptions.filter(
        status__in=LIVE_SUBSCRIPTION_STATUSES, cancel_at_period_end=False
    ).exists()
    if not renews:
        return None
    return Conflict(
        "card_renews",
        f"{member.first_name}'s membership still renews by card each year; cancel the card "
        "renewal first.",
    )


def erase_words(erasure: Erasure) -> None:
    # A gift's giver is named in the memos and texts that told the member of it.
    for name, email in CheckoutSession.objects.filter(member=erasure.member).values_list(
        "gift_from", "gift_email"
    ):
        erasure.add_words([name, email])


def erase_part(erasure: Erasure) -> None:
    member = erasure.member
    checkouts = CheckoutSession.objects.filter(member=member)
    # Every Stripe id that ties an event to the member, with our own metadata's member id.
    ids: set[str] = {f'"circle_member_id": "{member.pk}"'}
    ids |= {sid for sid in checkouts.values_list("stripe_session_id", flat=True) if sid}
    ids |= set(
        StripeCustomer.objects.filter(member=member).values_list("stripe_customer_id", flat=True)
    )
    ids |= {
        pi
        for pi in Payment.objects.filter(member=member).values_list(
            "stripe_payment_intent_id", flat=True
        )
        if pi
    }
    ids |= set(member.subscriptions.values_list("stripe_subscription_id", flat=True))
    about = Q(pk__in=[])
    for stripe_id in ids:
        about |= Q(payload_text__icontains=stripe_id)
    events = StripeEvent.objects.annotate(payload_text=json_text("payload")).filter(
        about | erasure.quoting("payload", json=True)
    )
    scrubbed = 0
    for event in events:
        payload = erasure.redact_json(stripe_scrub(event.payload), own=True)
        if payload != event.payload:
            StripeEvent.objects.filter(pk=event.pk).update(payload=payload)
            scrubbed += 1
    erasure.count("stripe_events", scrubbed)
    erasure.count(
        "checkouts",
        checkouts.exclude(gift_from="", gift_email="").update(gift_from="", gift_email=""),
    )
    refunds = 0
    for refund in Refund.objects.filter(member=member).exclude(reason=""):
        reason = erasure.redact(refund.reason, own=True)
        if reason != refund.reason:
            Refund.objects.filter(pk=refund.pk).update(reason=reason)
            refunds += 1
    erasure.count("refunds", refunds)
