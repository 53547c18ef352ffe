"""`POST /api/v1/members/{id}/membership/checkout/` and `.../tokens/checkout/`: a Stripe Checkout
session, made through the official library against the local Stripe server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import AuditEvent
from payments.models import CheckoutSession, CheckoutStatus, StripeCustomer
from payments.stripe_local import LocalStripe
from tests.conftest import Personas
from tests.payments.conftest import card_counts, deliver_all, start_checkout

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def membership_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/membership/checkout/"


def tokens_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/tokens/checkout/"


def test_member_starts_a_membership_checkout_for_a_yearly_subscription(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    response = client_for(personas.alice).post(membership_url(personas.alice.pk), {}, "json")

    assert response.status_code == 201, response.content
    url = response.json()["checkout_url"]
    assert url.startswith(f"{stripe_server.base_url}/pay/cs_")
    session = stripe_server.of_kind("checkout.session")[0]
    assert session["url"] == url
    assert session["mode"] == "subscription"
    item = session["line_items_sent"][0]
    # The circle's fee, yearly, in pence: Stripe's form encoding sends every value as a string.
    assert item["price_data"]["unit_amount"] == "1000"
    assert item["price_data"]["currency"] == "gbp"
    assert item["price_data"]["recurring"] == {"interval": "year"}
    checkout = CheckoutSession.objects.get()
    assert checkout.status == CheckoutStatus.OPEN
    assert checkout.stripe_session_id == session["id"]
    assert session["metadata"]["circle_checkout_id"] == str(checkout.pk)
    assert session["_subscription_metadata"]["circle_member_id"] == str(personas.alice.pk)
    # The calls that create carry keys derived from our rows.
    keys = {(r.path, r.idempotency_key) for r in stripe_server.requests}
    assert ("/v1/checkout/sessions", f"circle-checkout-{checkout.pk}") in keys
    assert ("/v1/customers", f"circle-customer-{personas.alice.pk}") in keys
    assert AuditEvent.objects.filter(action="payment.checkout_started").count() == 1


def test_tokens_checkout_charges_the_circles_token_price_per_token(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    response = client_for(personas.alice).post(tokens_url(personas.alice.pk), {"tokens": 3}, "json")

    assert response.status_code == 201, response.content
    session = stripe_server.of_kind("checkout.session")[0]
    assert session["mode"] == "payment"
    assert session["amount_total"] == 3000
    assert session["line_items_sent"][0]["quantity"] == "3"
    checkout = CheckoutSession.objects.get()
    assert (checkout.tokens, str(checkout.amount.amount)) == (3, "30.00")


def test_staff_start_a_checkout_for_a_member_and_one_customer_serves_both(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    otto = client_for(personas.otto)
    assert otto.post(tokens_url(personas.bob.pk), {"tokens": 1}, "json").status_code == 201
    assert otto.post(membership_url(personas.bob.pk), {}, "json").status_code == 201

    assert len(stripe_server.of_kind("customer")) == 1
    assert StripeCustomer.objects.get().member == personas.bob
    sessions = stripe_server.of_kind("checkout.session")
    assert {s["customer"] for s in sessions} == {StripeCustomer.objects.get().stripe_customer_id}


@pytest.mark.parametrize("tokens", [0, -1, 101, 1000, "three", 1.5, None])
def test_token_pack_out_of_range_is_refused_and_nothing_is_written(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, tokens: Any
) -> None:
    before = card_counts()
    response = client_for(personas.alice).post(
        tokens_url(personas.alice.pk), {"tokens": tokens}, "json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["field"] == "tokens"
    assert card_counts() == before
    assert stripe_server.requests == []


def test_unknown_field_is_refused(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    response = client_for(personas.alice).post(
        membership_url(personas.alice.pk), {"amount": "1.00"}, "json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"
    assert CheckoutSession.objects.count() == 0


def test_another_member_may_not_start_a_checkout_for_alice(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    response = client_for(personas.bob).post(tokens_url(personas.alice.pk), {"tokens": 1}, "json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_another_circles_member_is_not_found(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    for who in (personas.clara, personas.sam):
        response = client_for(who).post(membership_url(personas.alice.pk), {}, "json")
        assert response.status_code == 404
        assert response.json()["code"] == "member_not_found"
    assert client_for(None).post(membership_url(personas.alice.pk), {}, "json").status_code == 401
    assert stripe_server.requests == []


def test_a_second_subscription_is_refused_while_one_runs(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    alice = client_for(personas.alice)
    deliver_all(stripe_server, stripe_server.complete(start_checkout(alice, personas.alice)))

    before = card_counts()
    response = alice.post(membership_url(personas.alice.pk), {}, "json")
    assert response.status_code == 409
    assert response.json()["code"] == "subscription_exists"
    assert card_counts() == before


def test_a_retried_stripe_call_sends_the_same_idempotency_key_and_makes_one_session(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    # Stripe fails the first attempt; the library tries again by itself.
    stripe_server.fail_next(500)
    response = client_for(personas.alice).post(tokens_url(personas.alice.pk), {"tokens": 2}, "json")

    assert response.status_code == 201, response.content
    checkout = CheckoutSession.objects.get()
    attempts = [r for r in stripe_server.requests if r.path == "/v1/checkout/sessions"]
    # (The customer call went first and took the failure; the session call then succeeded.)
    assert len(stripe_server.of_kind("checkout.session")) == 1
    customer_attempts = [r for r in stripe_server.requests if r.path == "/v1/customers"]
    assert [r.status for r in customer_attempts] == [500, 200]
    assert len({r.idempotency_key for r in customer_attempts}) == 1
    assert [r.idempotency_key for r in attempts] == [f"circle-checkout-{checkout.pk}"]


def test_the_same_checkout_row_asked_twice_gets_the_same_session(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    """Our own retry of one row (the answer was lost) sends the same key: Stripe replays."""
    from payments import stripe_client

    client_for(personas.alice).post(tokens_url(personas.alice.pk), {"tokens": 2}, "json")
    checkout = CheckoutSession.objects.get()
    first = next(r for r in stripe_server.requests if r.path == "/v1/checkout/sessions")

    again = stripe_client.checkout_session_create(
        params=first.params, idempotency_key=f"circle-checkout-{checkout.pk}"
    )

    assert again["id"] == checkout.stripe_session_id
    assert len(stripe_server.of_kind("checkout.session")) == 1


def test_checkout_when_stripe_cannot_be_reached_is_a_503_and_charges_nothing(
    personas: Personas, client_for: Client, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_circle_local"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    response = client_for(personas.alice).post(tokens_url(personas.alice.pk), {"tokens": 1}, "json")

    assert response.status_code == 503
    assert response.json()["code"] == "payments_unavailable"
    assert CheckoutSession.objects.get().status == CheckoutStatus.CREATED  # never opened


@pytest.mark.parametrize(("status", "times"), [(400, 1), (401, 1), (429, 3), (500, 3)])
def test_stripe_refusing_to_start_a_checkout_is_a_502_and_charges_nothing(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, status: int, times: int
) -> None:
    # A malformed request, a revoked key, a rate limit or Stripe's own error after the
    # library's retries: a clear answer with a stable code, never a 500.
    stripe_server.fail_next(status, times=times)

    response = client_for(personas.alice).post(tokens_url(personas.alice.pk), {"tokens": 1}, "json")

    assert response.status_code == 502, response.content
    assert response.json()["code"] == "payments_failed"
    assert CheckoutSession.objects.get().status == CheckoutStatus.CREATED  # never opened
    assert stripe_server.of_kind("checkout.session") == []


def test_checkout_without_stripe_configured_says_so(
    personas: Personas, client_for: Client, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    before = card_counts()
    response = client_for(personas.alice).post(membership_url(personas.alice.pk), {}, "json")
    assert response.status_code == 503
    assert response.json()["code"] == "payments_not_configured"
    assert card_counts() == before
