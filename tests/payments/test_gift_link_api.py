"""`POST /api/v1/members/{id}/gift-link/`: the member's gift link, for the member themselves or
their circle's staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import AuditEvent
from payments.services.gifts import gift_link_read
from tests.conftest import Personas

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/gift-link/"


@pytest.mark.parametrize("who", ["alice", "cora", "otto"])
def test_the_member_and_their_staff_get_a_link(
    personas: Personas, client_for: Client, who: str
) -> None:
    response = client_for(getattr(personas, who)).post(url(personas.alice.pk), {}, "json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"url", "expires_at"}
    token = body["url"].rstrip("/").rsplit("/", 1)[-1]
    assert gift_link_read(token).member_id == personas.alice.pk
    assert AuditEvent.objects.filter(action="payment.gift_link_made").count() == 1


@pytest.mark.parametrize("who", ["bob", "hana"])
def test_another_member_is_refused(personas: Personas, client_for: Client, who: str) -> None:
    response = client_for(getattr(personas, who)).post(url(personas.alice.pk), {}, "json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not AuditEvent.objects.filter(action="payment.gift_link_made").exists()


def test_staff_of_another_circle_find_no_such_member(
    personas: Personas, client_for: Client
) -> None:
    response = client_for(personas.clara).post(url(personas.alice.pk), {}, "json")

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"


def test_anonymous_is_refused(personas: Personas, client_for: Client) -> None:
    assert client_for(None).post(url(personas.alice.pk), {}, "json").status_code == 401


def test_an_unknown_field_is_refused(personas: Personas, client_for: Client) -> None:
    response = client_for(personas.alice).post(url(personas.alice.pk), {"tokens": 2}, "json")

    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="payment.gift_link_made").exists()


def test_the_schema_describes_the_endpoint(client_for: Client, personas: Personas) -> None:
    response = client_for(None).get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/members/{member_id}/gift-link/"]["post"]
    assert "201" in operation["responses"]
