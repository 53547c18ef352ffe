"""The local Stripe itself: what the tests and the demo rely on it to do as Stripe does."""

from __future__ import annotations

import pytest
import stripe

from payments.stripe_local import LocalStripe, decode_form


def test_nested_form_fields_decode_to_dicts_and_lists() -> None:
    body = (
        "mode=payment&line_items[0][quantity]=2&line_items[0][price_data][unit_amount]=1000"
        "&line_items[1][quantity]=1&metadata[a]=b"
    )
    assert decode_form(body) == {
        "mode": "payment",
        "line_items": [
            {"quantity": "2", "price_data": {"unit_amount": "1000"}},
            {"quantity": "1"},
        ],
        "metadata": {"a": "b"},
    }


def _client(state: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_x", base_addresses={"api": state.base_url}, max_network_retries=0
    )


def test_the_same_idempotency_key_replays_and_other_parameters_are_refused(
    stripe_server: LocalStripe,
) -> None:
    client = _client(stripe_server)
    first = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    again = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})

    assert again.id == first.id
    assert len(stripe_server.of_kind("customer")) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"name": "B"}, options={"idempotency_key": "k"})


def test_unknown_objects_are_404s_the_library_understands(stripe_server: LocalStripe) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        _client(stripe_server).v1.invoices.retrieve("in_nope")
    assert missing.value.http_status == 404


def test_list_calls_page_through_everything(stripe_server: LocalStripe) -> None:
    from payments import stripe_client

    for n in range(5):
        _client(stripe_server).v1.customers.create(params={"name": str(n)})
        stripe_server.session_create(
            {"mode": "payment", "line_items": [{"price_data": {"unit_amount": "100"}}]}
        )
    sessions = list(stripe_client.checkout_sessions_list(limit=2))
    assert len(sessions) == 5
    assert len({s["id"] for s in sessions}) == 5
