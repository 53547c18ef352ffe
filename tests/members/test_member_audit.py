"""GET /api/v1/members/{id}/audit/: what was done on a member's behalf, newest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import Personas
from tests.members.conftest import join_url

ClientFor = Callable[[Any], APIClient]


def audit(client: APIClient, member_id: int | str) -> Any:
    return client.get(f"/api/v1/members/{member_id}/audit/")


@pytest.fixture
def hana_vetted(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.cora).post(
        f"/api/v1/helpers/{personas.hana_helper.pk}/vetting/",
        {
            "identity_checked": True,
            "references_checked": True,
            "dbs_level": "basic",
            "dbs_certificate_number": "001234567890",
            "dbs_issue_date": date(2024, 3, 1).isoformat(),
            "original_seen_by": "Cora Coordinator",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_helper_sees_her_vetting_done_on_her_behalf(
    personas: Personas, client_for: ClientFor, hana_vetted: None
) -> None:
    response = audit(client_for(personas.hana), personas.hana.pk)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    event = body["results"][0]
    assert event["action"] == "helper.vetted"
    assert event["member_id"] == personas.hana.pk
    assert personas.cora.user is not None
    assert event["actor"] == {"user_id": personas.cora.user.pk, "name": "Cora Coordinator"}
    assert event["details"]["to"] == "basic"
    assert event["created_at"]


def test_member_sees_staff_actions_newest_first(
    personas: Personas, client_for: ClientFor, hana_vetted: None
) -> None:
    joined = client_for(personas.hana).post(
        join_url(),
        {
            "full_name": "Hana Hughes",
            "phone": "07911 123456",
            "date_of_birth": "1955-06-01",
            "address_line1": "3 Rye Lane",
            "postcode": "SE15 4AA",
        },
        format="json",
    )
    assert joined.status_code == 201, joined.json()

    actions = [
        e["action"] for e in audit(client_for(personas.hana), personas.hana.pk).json()["results"]
    ]
    assert actions == ["member.joined", "helper.vetted"]


def test_phone_registration_shows_the_operator_reason_and_call_reference(
    personas: Personas, client_for: ClientFor
) -> None:
    registered = client_for(personas.otto).post(
        join_url(),
        {
            "full_name": "Phil Phone",
            "phone": "020 7946 0018",
            "date_of_birth": "1948-01-31",
            "address_line1": "1 Long Lane",
            "postcode": "SE1 4PG",
            "reason": "Rang the helpline",
            "call_reference": "CALL-42",
        },
        format="json",
    )
    assert registered.status_code == 201, registered.json()

    response = audit(client_for(personas.cora), registered.json()["id"])
    assert response.status_code == 200
    [event] = response.json()["results"]
    assert event["action"] == "member.registered_by_staff"
    assert personas.otto.user is not None
    assert event["actor"]["user_id"] == personas.otto.user.pk
    assert event["reason"] == "Rang the helpline"
    assert event["call_reference"] == "CALL-42"


def test_member_with_no_history_sees_an_empty_list(
    personas: Personas, client_for: ClientFor
) -> None:
    response = audit(client_for(personas.alice), personas.alice.pk)
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_member_does_not_see_what_was_done_for_others(
    personas: Personas, client_for: ClientFor, hana_vetted: None
) -> None:
    assert audit(client_for(personas.alice), personas.alice.pk).json()["count"] == 0


@pytest.mark.parametrize("staff", ["otto", "cora"])
def test_circle_staff_see_a_members_audit(
    personas: Personas, client_for: ClientFor, hana_vetted: None, staff: str
) -> None:
    response = audit(client_for(getattr(personas, staff)), personas.hana.pk)
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["results"]] == ["helper.vetted"]


@pytest.mark.parametrize(("who", "whom"), [("alice", "hana"), ("bob", "alice"), ("hana", "bob")])
def test_another_member_is_forbidden(
    personas: Personas, client_for: ClientFor, hana_vetted: None, who: str, whom: str
) -> None:
    response = audit(client_for(getattr(personas, who)), getattr(personas, whom).pk)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "helper.vetted" not in response.content.decode()


@pytest.mark.parametrize("who", ["clara", "sam"])
def test_another_circle_gets_not_found(
    personas: Personas, client_for: ClientFor, hana_vetted: None, who: str
) -> None:
    response = audit(client_for(getattr(personas, who)), personas.hana.pk)
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
    assert "helper.vetted" not in response.content.decode()


def test_anonymous_is_401(personas: Personas, client_for: ClientFor) -> None:
    response = audit(client_for(None), personas.hana.pk)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_unknown_member_is_404(personas: Personas, client_for: ClientFor) -> None:
    response = audit(client_for(personas.cora), 987654321)
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
