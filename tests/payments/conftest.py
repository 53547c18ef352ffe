"""Helpers shared by the payment tests: the endpoints, a valid body and row counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from circle.models import Circle
from members.models import AuditEvent, Member
from payments.models import MembershipPeriod, Payment, Refund
from payments.stripe_local import LocalStripe, running
from tests.factories import body_with
from tokens.models import Account, Entry, LedgerTransaction
from tokens.selectors import member_tokens

OFFLINE_URL = "/api/v1/members/{id}/payments/offline/"
LIST_URL = "/api/v1/members/{id}/payments/"


def offline_url(member_id: int) -> str:
    return OFFLINE_URL.format(id=member_id)


def list_url(member_id: int) -> str:
    return LIST_URL.format(id=member_id)


@pytest.fixture
def payment_body() -> Callable[..., dict[str, Any]]:
    """A valid cash payment for a year's membership; keyword arguments replace fields, or
    (with None) drop them."""

    def make(**changes: Any) -> dict[str, Any]:
        body = {"purpose": "membership", "method": "cash", "reference": "R1"}
        return body_with(body, **changes)

    return make


def row_counts() -> dict[str, int]:
    """Everything a payment may write, so a refused one can be shown to write nothing."""
    return {
        "payments": Payment.objects.count(),
        "periods": MembershipPeriod.objects.count(),
        "audit": AuditEvent.objects.count(),
        "transactions": LedgerTransaction.objects.count(),
        "entries": Entry.objects.count(),
    }


# --- Card payments: the local Stripe server ----------------------------------------------------

WEBHOOK_URL = "/api/v1/payments/stripe/webhook/"
WEBHOOK_SECRET = "whsec_test_circle"


@pytest.fixture
def stripe_server(settings: Any) -> Iterator[LocalStripe]:
    """The local Stripe on a free loopback port, with the official library pointed at it
    through STRIPE_API_BASE, for one test."""
    with running(webhook_secret=WEBHOOK_SECRET) as state:
        settings.STRIPE_API_BASE = state.base_url
        settings.STRIPE_SECRET_KEY = "sk_test_circle_local"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        yield state


def deliver(state: LocalStripe, event: dict[str, Any], *, timestamp: int | None = None) -> Any:
    """POST one event to the webhook as Stripe would: the JSON body, signed."""
    payload, header = state.signed(event, timestamp=timestamp)
    return APIClient().post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def deliver_all(state: LocalStripe, events: list[dict[str, Any]]) -> None:
    for event in events:
        response = deliver(state, event)
        assert response.status_code == 200, response.content


def start_checkout(client: APIClient, member: Member, *, tokens: int | None = None) -> str:
    """Start a Checkout through the API; returns the Stripe session id."""
    if tokens is None:
        response = client.post(f"/api/v1/members/{member.pk}/membership/checkout/", {}, "json")
    else:
        response = client.post(
            f"/api/v1/members/{member.pk}/tokens/checkout/", {"tokens": tokens}, "json"
        )
    assert response.status_code == 201, response.content
    url: str = response.json()["checkout_url"]
    return url.rsplit("/", 1)[-1]


def wallet_minutes(member: Member) -> int:
    return member_tokens(member=member).balance


def books(circle: Circle) -> dict[str, Any]:
    """What the circle's books say, to compare two histories: every account's balance, and the
    payments, periods and refunds recorded."""
    return {
        "accounts": sorted(
            (a.kind, a.member_id, a.balance) for a in Account.objects.filter(circle=circle)
        ),
        "payments": sorted(
            (p.member_id, p.purpose, p.method, str(p.amount.amount), p.tokens)
            for p in Payment.objects.filter(circle=circle)
        ),
        "periods": sorted(
            (p.member_id, p.start, p.end) for p in MembershipPeriod.objects.filter(circle=circle)
        ),
        "refunds": sorted(
            (r.payment.tokens, r.minutes, r.status) for r in Refund.objects.filter(circle=circle)
        ),
        "statuses": sorted(
            Member.objects.filter(circle=circle).values_list("pk", "membership_status")
        ),
    }


def card_counts() -> dict[str, int]:
    """Everything a card payment may write, to show a refused request wrote nothing."""
    from attention.models import Item
    from payments.models import CheckoutSession, StripeEvent

    return {
        **row_counts(),
        "checkouts": CheckoutSession.objects.count(),
        "events": StripeEvent.objects.count(),
        "refunds": Refund.objects.count(),
        "followups": Item.objects.count(),
    }
