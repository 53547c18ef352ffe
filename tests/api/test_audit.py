"""GET /api/v1/circles/{slug}/audit/: a circle's audit log, for its coordinators only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from members.models import AuditEvent, Member
from members.selectors import caller_for
from members.services import audit_record
from tests.api.checks import assert_error
from tests.conftest import Personas

ClientFor = Callable[[Member | None], APIClient]


def url(slug: str) -> str:
    return f"/api/v1/circles/{slug}/audit/"


@pytest.fixture
def logged(personas: Personas) -> Personas:
    """A few rows in each circle's log, written as the services write them."""
    p = personas
    otto = caller_for(user=p.otto.user, circle=p.southwark)
    clara = caller_for(user=p.clara.user, circle=p.suffolk)
    audit_record(circle=p.southwark, action="member.joined", member=p.alice)
    audit_record(circle=p.southwark, action="member.joined", member=p.bob)
    audit_record(
        circle=p.southwark,
        action="member.updated",
        caller=otto,
        member=p.alice,
        call_reference="CALL-1",
    )
    audit_record(circle=p.suffolk, action="member.joined", member=p.sam)
    audit_record(
        circle=p.suffolk, action="member.updated", caller=clara, member=p.sam, reason="typo"
    )
    return p


def test_coordinator_reads_the_log_newest_first(logged: Personas, client_for: ClientFor) -> None:
    response = client_for(logged.cora).get(url("southwark"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    expected = list(
        AuditEvent.objects.filter(circle=logged.southwark)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )
    assert [row["id"] for row in body["results"]] == expected
    times = [row["created_at"] for row in body["results"]]
    assert times == sorted(times, reverse=True)
    newest = body["results"][0]
    assert newest["action"] == "member.updated"
    assert newest["member_id"] == logged.alice.pk
    assert newest["call_reference"] == "CALL-1"
    assert newest["actor"] == {"user_id": logged.otto.user_id, "name": "Otto Operator"}


def test_log_is_paginated(logged: Personas, client_for: ClientFor) -> None:
    client = client_for(logged.cora)

    first = client.get(url("southwark"), {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 3


def test_log_filters_by_member(logged: Personas, client_for: ClientFor) -> None:
    body = client_for(logged.cora).get(url("southwark"), {"member_id": logged.alice.pk}).json()

    assert body["count"] == 2
    assert {row["member_id"] for row in body["results"]} == {logged.alice.pk}


def test_log_filters_by_action(logged: Personas, client_for: ClientFor) -> None:
    body = client_for(logged.cora).get(url("southwark"), {"action": "member.joined"}).json()

    assert body["count"] == 2
    assert {row["action"] for row in body["results"]} == {"member.joined"}
    assert {row["member_id"] for row in body["results"]} == {logged.alice.pk, logged.bob.pk}


def test_log_filters_by_member_and_action(logged: Personas, client_for: ClientFor) -> None:
    body = (
        client_for(logged.cora)
        .get(url("southwark"), {"member_id": logged.bob.pk, "action": "member.updated"})
        .json()
    )

    assert body["count"] == 0
    assert body["results"] == []


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "1e3", "²", "١٢", " 1"])
def test_log_bad_member_id_is_400(logged: Personas, client_for: ClientFor, bad: str) -> None:
    response = client_for(logged.cora).get(url("southwark"), {"member_id": bad})

    assert_error(response, 400, "invalid", field="member_id")


def test_log_huge_member_id_is_400(logged: Personas, client_for: ClientFor) -> None:
    response = client_for(logged.cora).get(url("southwark"), {"member_id": "9" * 30})

    assert response.status_code == 400
    assert response.json()["field"] == "member_id"


def test_log_member_of_another_circle_is_400(logged: Personas, client_for: ClientFor) -> None:
    response = client_for(logged.cora).get(url("southwark"), {"member_id": logged.sam.pk})

    assert_error(response, 400, "member_not_found", field="member_id")


def test_log_refused_to_operator(logged: Personas, client_for: ClientFor) -> None:
    assert_error(client_for(logged.otto).get(url("southwark")), 403, "forbidden")


@pytest.mark.parametrize("who", ["alice", "hana"])
def test_log_refused_to_members_and_helpers(
    logged: Personas, client_for: ClientFor, who: str
) -> None:
    assert_error(client_for(getattr(logged, who)).get(url("southwark")), 403, "forbidden")


def test_log_anonymous_is_401(logged: Personas, api: APIClient) -> None:
    assert_error(api.get(url("southwark")), 401, "not_authenticated")


def test_log_unknown_circle_is_404(logged: Personas, client_for: ClientFor) -> None:
    assert_error(client_for(logged.cora).get(url("atlantis")), 404, "circle_not_found")


def test_other_circles_coordinator_sees_nothing(logged: Personas, client_for: ClientFor) -> None:
    response = client_for(logged.clara).get(url("southwark"))

    assert response.status_code in {403, 404}
    assert_error(response, response.status_code, response.json()["code"])
    assert "results" not in response.json()
    for member in (logged.alice, logged.bob):
        assert member.full_name not in response.content.decode()


def test_own_log_holds_no_other_circles_rows(logged: Personas, client_for: ClientFor) -> None:
    body = client_for(logged.clara).get(url("suffolk")).json()

    assert body["count"] == 2
    ids = {row["id"] for row in body["results"]}
    assert ids == set(AuditEvent.objects.filter(circle=logged.suffolk).values_list("id", flat=True))
    southwark_ids = set(
        AuditEvent.objects.filter(circle=logged.southwark).values_list("id", flat=True)
    )
    assert not ids & southwark_ids
    southwark_members = set(
        Member.objects.filter(circle=logged.southwark).values_list("id", flat=True)
    )
    assert not {row["member_id"] for row in body["results"]} & southwark_members


def test_other_circles_coordinator_cannot_filter_into_our_log(
    logged: Personas, client_for: ClientFor
) -> None:
    response = client_for(logged.clara).get(url("suffolk"), {"member_id": logged.alice.pk})

    assert_error(response, 400, "member_not_found", field="member_id")
