"""`POST /api/v1/payments/{id}/refund/`: a coordinator refunds unspent tokens bought by card; and
refunds made in Stripe's dashboard, through `charge.refunded`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from attention.models import Item, ItemKind
from members.models import AuditEvent, Member
from payments.models import Payment, Refund, RefundSource, RefundStatus
from payments.stripe_local import LocalStripe
from tests.conftest import Personas
from tests.payments.conftest import (
    card_counts,
    deliver_all,
    list_url,
    offline_url,
    start_checkout,
    wallet_minutes,
)
from tokens.models import LedgerTransaction
from tokens.services import transfer_create

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def bought(stripe: LocalStripe, client: APIClient, member: Member, tokens: int) -> Payment:
    deliver_all(stripe, stripe.complete(start_checkout(client, member, tokens=tokens)))
    return Payment.objects.filter(member=member).latest("id")


def refund(client: APIClient, payment: Payment, **body: Any) -> Any:
    return client.post(
        f"/api/v1/payments/{payment.pk}/refund/", {"reason": "Moving away", **body}, "json"
    )


def test_coordinator_refunds_unspent_tokens_once_with_an_idempotency_key(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 3)

    response = refund(client_for(personas.cora), payment, tokens=2)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["tokens"], body["status"], body["made_by"]) == (2, "succeeded", "coordinator")
    assert body["amount"] == {"amount": "20.00", "currency": "GBP"}
    assert wallet_minutes(personas.alice) == 60
    row = Refund.objects.get()
    call = next(r for r in stripe_server.requests if r.path == "/v1/refunds")
    assert call.idempotency_key == f"circle-refund-{row.pk}"
    assert call.params["amount"] == "2000"
    assert call.params["payment_intent"] == payment.stripe_payment_intent_id
    (stripe_refund,) = stripe_server.of_kind("refund")
    assert row.stripe_refund_id == stripe_refund["id"]
    # Stripe then tells us about it; it is ours, so nothing more moves.
    deliver_all(stripe_server, [stripe_server.events[-1]])
    deliver_all(stripe_server, [stripe_server.events[-1]])
    assert wallet_minutes(personas.alice) == 60
    assert Refund.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.refund_requested").count() == 1
    assert AuditEvent.objects.filter(action="payment.refunded").count() == 1
    listed = client_for(personas.alice).get(list_url(personas.alice.pk)).json()["results"]
    assert listed[0]["refunded_tokens"] == 2


def test_a_refund_larger_than_what_is_unspent_is_refused_and_nothing_is_written(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 3)
    cora = client_for(personas.cora)
    assert refund(cora, payment, tokens=2).status_code == 201
    before = card_counts()
    requests = len(stripe_server.requests)

    response = refund(cora, payment, tokens=2)  # only one is left

    assert response.status_code == 409
    assert response.json()["code"] == "more_than_unspent"
    assert card_counts() == before
    assert len(stripe_server.requests) == requests  # Stripe was not asked


def test_tokens_already_spent_cannot_be_refunded(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    transfer_create(
        source=personas.alice,
        destination=personas.bob,
        minutes=90,
        memo="thanks",
        actor=None,
        idempotency_key="gift-1",
    )
    before = card_counts()

    response = refund(client_for(personas.cora), payment, tokens=1)

    assert response.status_code == 409
    assert response.json()["code"] == "more_than_unspent"
    assert card_counts() == before
    assert wallet_minutes(personas.alice) == 30


@pytest.mark.parametrize("tokens", [0, -1, "one", None])
def test_a_refund_needs_a_whole_number_of_tokens(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, tokens: Any
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    before = card_counts()
    response = client_for(personas.cora).post(
        f"/api/v1/payments/{payment.pk}/refund/", {"tokens": tokens, "reason": "x"}, "json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "tokens"
    assert card_counts() == before


def test_a_refund_needs_a_reason(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    response = client_for(personas.cora).post(
        f"/api/v1/payments/{payment.pk}/refund/", {"tokens": 1, "reason": "  "}, "json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "reason"
    assert Refund.objects.count() == 0


def test_only_coordinators_of_the_circle_refund(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    for who, status in [
        (personas.otto, 403),
        (personas.alice, 403),
        (personas.clara, 404),
        (personas.sam, 404),
    ]:
        response = refund(client_for(who), payment, tokens=1)
        assert response.status_code == status, (who, response.content)
    assert Refund.objects.count() == 0
    assert wallet_minutes(personas.alice) == 120


def test_an_offline_payment_is_not_refunded_by_card(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    body = {"purpose": "tokens", "tokens": 2, "method": "cash", "reference": "CASH-R"}
    client_for(personas.otto).post(offline_url(personas.alice.pk), body, format="json")
    payment = Payment.objects.get()

    response = refund(client_for(personas.cora), payment, tokens=1)

    assert response.status_code == 400
    assert response.json()["code"] == "not_a_card_payment"
    assert Refund.objects.count() == 0


def test_when_stripe_refuses_the_refund_the_tokens_come_back(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    stripe_server.fail_next(400)

    response = refund(client_for(personas.cora), payment, tokens=1)

    assert response.status_code == 409
    assert response.json()["code"] == "refund_refused"
    assert wallet_minutes(personas.alice) == 120
    assert Refund.objects.get().status == RefundStatus.FAILED
    assert AuditEvent.objects.filter(action="payment.refund_failed").count() == 1
    # A failed refund no longer counts against what may be refunded.
    assert refund(client_for(personas.cora), payment, tokens=2).status_code == 201
    assert wallet_minutes(personas.alice) == 0


def test_when_stripe_cannot_be_reached_the_refund_waits_and_is_asked_again_with_the_same_key(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, settings: Any
) -> None:
    from payments.services.refunds import refunds_retry_pending

    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    real_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    response = refund(client_for(personas.cora), payment, tokens=1)

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert wallet_minutes(personas.alice) == 60  # held back meanwhile: it cannot be spent
    settings.STRIPE_API_BASE = real_base
    from datetime import timedelta

    assert refunds_retry_pending(older_than=timedelta(0)) == 1
    assert refunds_retry_pending(older_than=timedelta(0)) == 0
    row = Refund.objects.get()
    assert row.status == RefundStatus.SUCCEEDED
    (call,) = [r for r in stripe_server.requests if r.path == "/v1/refunds"]
    assert call.idempotency_key == f"circle-refund-{row.pk}"


def test_a_refund_made_in_stripes_dashboard_takes_the_tokens_back(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 3)

    events = stripe_server.dashboard_refund(payment.stripe_payment_intent_id, 1000)
    deliver_all(stripe_server, events * 3)

    assert wallet_minutes(personas.alice) == 120
    row = Refund.objects.get()
    assert (row.source, row.status, row.minutes, row.tokens) == (
        RefundSource.STRIPE,
        RefundStatus.SUCCEEDED,
        60,
        1,
    )
    assert Item.objects.count() == 0


def test_a_dashboard_refund_of_spent_tokens_takes_what_is_left_and_queues_a_follow_up(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    transfer_create(
        source=personas.alice,
        destination=None,
        minutes=100,
        memo="to the pot",
        actor=None,
        idempotency_key="pot-1",
    )

    deliver_all(
        stripe_server, stripe_server.dashboard_refund(payment.stripe_payment_intent_id, 2000)
    )

    assert wallet_minutes(personas.alice) == 0
    assert Refund.objects.get().minutes == 20
    followup = Item.objects.get()
    assert followup.kind == ItemKind.REFUND_SHORTFALL
    assert "20 of 120" in followup.note


def test_a_refund_event_for_a_charge_that_is_not_ours_is_ignored(
    stripe_server: LocalStripe, db: None
) -> None:
    event = {
        "id": "evt_foreign_refund",
        "type": "charge.refunded",
        "data": {"object": {"id": "ch_x", "object": "charge", "payment_intent": "pi_unknown"}},
    }
    deliver_all(stripe_server, [event])
    assert Refund.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0


def test_when_stripe_keeps_failing_the_refund_waits_rather_than_guessing(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    from datetime import timedelta

    from payments.services.refunds import refunds_retry_pending

    payment = bought(stripe_server, client_for(personas.alice), personas.alice, 2)
    stripe_server.fail_next(500, times=3)  # the first try and both of the library's retries

    response = refund(client_for(personas.cora), payment, tokens=1)

    assert response.status_code == 202
    attempts = [r for r in stripe_server.requests if r.path == "/v1/refunds"]
    assert [r.status for r in attempts] == [500, 500, 500]
    assert len({r.idempotency_key for r in attempts}) == 1
    assert wallet_minutes(personas.alice) == 60

    assert refunds_retry_pending(older_than=timedelta(0)) == 1
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert wallet_minutes(personas.alice) == 60
    assert len(stripe_server.of_kind("refund")) == 1


def test_a_membership_fee_refunded_in_the_dashboard_leaves_the_year_to_a_person(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    deliver_all(
        stripe_server,
        stripe_server.complete(start_checkout(client_for(personas.alice), personas.alice)),
    )
    payment = Payment.objects.get()
    assert payment.stripe_payment_intent_id.startswith("pi_")

    deliver_all(
        stripe_server, stripe_server.dashboard_refund(payment.stripe_payment_intent_id, 1000)
    )

    row = Refund.objects.get()
    assert (row.minutes, str(row.amount.amount), row.source) == (0, "10.00", RefundSource.STRIPE)
    followup = Item.objects.get()
    assert followup.kind == ItemKind.REFUND_SHORTFALL
    assert "membership fee" in followup.note
    personas.alice.refresh_from_db()
    assert personas.alice.membership_status == "active"
    assert LedgerTransaction.objects.count() == 0
