"""`GET /api/v1/members/{id}/payments/`: a member's payments, newest first, for the member
themselves and their circle's staff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import Member
from payments.models import MembershipPeriod
from tests.conftest import Personas
from tests.payments.conftest import list_url, offline_url

Client = Callable[[Any], APIClient]
Body = Callable[..., dict[str, Any]]


def record(client: APIClient, member: Member, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(offline_url(member.pk), body, format="json")
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def alice_paid(personas: Personas, client_for: Client, payment_body: Body) -> list[dict[str, Any]]:
    """Alice paid three times, oldest first: a year in cash, tokens by cheque, a second year by
    bank transfer; Bob paid once (which Alice's list must not show)."""
    otto = client_for(personas.otto)
    paid = [
        record(otto, personas.alice, payment_body(reference="CASH-1")),
        record(
            otto,
            personas.alice,
            payment_body(purpose="tokens", tokens=2, method="cheque", reference="CHQ-100200"),
        ),
        record(
            client_for(personas.cora),
            personas.alice,
            payment_body(method="bank_transfer", reference="BT-ALICE"),
        ),
    ]
    record(otto, personas.bob, payment_body(reference="CASH-BOB"))
    return paid


@pytest.mark.django_db
def test_member_sees_their_own_payments_newest_first(
    personas: Personas, client_for: Client, alice_paid: list[dict[str, Any]]
) -> None:
    response = client_for(personas.alice).get(list_url(personas.alice.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    results = body["results"]
    assert [row["id"] for row in results] == [p["id"] for p in reversed(alice_paid)]
    assert [row["reference"] for row in results] == ["BT-ALICE", "CHQ-100200", "CASH-1"]
    assert all(row["member_id"] == personas.alice.pk for row in results)


@pytest.mark.django_db
def test_payment_list_shows_purpose_method_amount_tokens_and_paid_until(
    personas: Personas, client_for: Client, alice_paid: list[dict[str, Any]]
) -> None:
    years = list(MembershipPeriod.objects.filter(member=personas.alice).order_by("start"))

    second_year, tokens, first_year = (
        client_for(personas.alice).get(list_url(personas.alice.pk)).json()["results"]
    )

    assert first_year["purpose"] == "membership"
    assert first_year["method"] == "cash"
    assert first_year["amount"] == {"amount": "10.00", "currency": "GBP"}
    assert first_year["tokens"] is None
    assert first_year["paid_until"] == years[0].end.isoformat()

    assert tokens["purpose"] == "tokens"
    assert tokens["method"] == "cheque"
    assert tokens["amount"] == {"amount": "20.00", "currency": "GBP"}
    assert tokens["tokens"] == 2
    assert tokens["paid_until"] is None

    assert second_year["method"] == "bank_transfer"
    assert second_year["paid_until"] == years[1].end.isoformat()
    # Times carry their offset (DESIGN.md: ISO 8601 with offset).
    assert datetime.fromisoformat(second_year["created_at"]).utcoffset() is not None


@pytest.mark.django_db
def test_payment_list_is_paginated(
    personas: Personas, client_for: Client, alice_paid: list[dict[str, Any]]
) -> None:
    client = client_for(personas.otto)

    first = client.get(list_url(personas.alice.pk), {"limit": 2}).json()
    rest = client.get(first["next"]).json()

    assert first["count"] == 3
    assert [row["reference"] for row in first["results"]] == ["BT-ALICE", "CHQ-100200"]
    assert [row["reference"] for row in rest["results"]] == ["CASH-1"]
    assert rest["next"] is None


@pytest.mark.django_db
def test_member_with_no_payments_sees_an_empty_list(personas: Personas, client_for: Client) -> None:
    response = client_for(personas.bob).get(list_url(personas.bob.pk))

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("staff", ["otto", "cora"])
def test_staff_see_a_members_payments(
    personas: Personas, client_for: Client, alice_paid: list[dict[str, Any]], staff: str
) -> None:
    response = client_for(getattr(personas, staff)).get(list_url(personas.alice.pk))

    assert response.status_code == 200
    assert response.json()["count"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("bob", 403),  # another member of the same circle
        ("hana", 403),  # a helper is not staff
        ("clara", 404),  # Suffolk's coordinator cannot see Southwark's members
        ("sam", 404),
        (None, 401),
    ],
)
def test_payment_list_hidden_from_everyone_else(
    personas: Personas,
    client_for: Client,
    alice_paid: list[dict[str, Any]],
    who: str | None,
    status: int,
) -> None:
    caller = getattr(personas, who) if who else None

    response = client_for(caller).get(list_url(personas.alice.pk))

    assert response.status_code == status
    body = response.json()
    assert body["code"]
    assert "results" not in body
    assert "CASH-1" not in response.content.decode()


@pytest.mark.django_db
def test_payment_list_of_unknown_member_is_not_found(
    personas: Personas, client_for: Client
) -> None:
    missing = Member.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000

    response = client_for(personas.otto).get(list_url(missing))

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
