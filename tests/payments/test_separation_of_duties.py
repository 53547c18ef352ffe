"""Staff never record payments or refunds for their own member record (issue 11: an operator
recorded a £1,000 cash payment for themselves and was answered 201). Refused with 403
`own_record`, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from payments.models import Payment
from payments.stripe_local import LocalStripe
from tests.conftest import Personas
from tests.payments.conftest import (
    card_counts,
    deliver_all,
    offline_url,
    row_counts,
    start_checkout,
    wallet_minutes,
)

Client = Callable[[Any], APIClient]
Body = Callable[..., dict[str, Any]]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("staff", ["otto", "cora"])
def test_staff_cannot_record_a_cash_payment_for_themselves(
    personas: Personas, client_for: Client, payment_body: Body, staff: str
) -> None:
    me = getattr(personas, staff)
    before = row_counts()

    # £1,000 of tokens, "paid in cash", by the one who would receive them.
    response = client_for(me).post(
        offline_url(me.pk),
        payment_body(purpose="tokens", tokens=100, amount="1000.00"),
        format="json",
    )

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "own_record"
    assert response.json()["detail"]
    assert row_counts() == before
    assert wallet_minutes(me) == 0


def test_staff_cannot_record_their_own_membership_year(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    before = row_counts()

    response = client_for(personas.otto).post(
        offline_url(personas.otto.pk), payment_body(), format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "own_record"
    assert row_counts() == before


def test_another_member_of_staff_records_a_staff_members_payment(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    response = client_for(personas.cora).post(
        offline_url(personas.otto.pk), payment_body(purpose="tokens", tokens=2), format="json"
    )

    assert response.status_code == 201, response.content
    assert wallet_minutes(personas.otto) == 120


def test_a_coordinator_cannot_refund_their_own_card_payment(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    cora = client_for(personas.cora)
    # Cora buys tokens by card as any member may; refunding them is another coordinator's job.
    deliver_all(
        stripe_server, stripe_server.complete(start_checkout(cora, personas.cora, tokens=2))
    )
    payment = Payment.objects.filter(member=personas.cora).latest("id")
    before = card_counts()
    requests = len(stripe_server.requests)

    response = cora.post(
        f"/api/v1/payments/{payment.pk}/refund/", {"tokens": 2, "reason": "Changed my mind"}, "json"
    )

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "own_record"
    assert card_counts() == before
    assert len(stripe_server.requests) == requests  # Stripe was not asked
    assert wallet_minutes(personas.cora) == 120
