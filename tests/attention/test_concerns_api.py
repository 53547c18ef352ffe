"""Safeguarding concerns over the API: anyone in the circle raises one; only its coordinators
read it (every reading logged); operators are refused; the person it is about finds nothing;
the raiser sees that it was received and when it was closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from attention.models import Concern, ConcernReading, Item, ItemKind
from members.models import AuditEvent
from tests.conftest import Personas

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db

RAISE_URL = "/api/v1/circles/southwark/concerns/"


def raise_concern(client: APIClient, **body: Any) -> Any:
    return client.post(RAISE_URL, {"danger_now": False, **body}, "json")


def url(concern_id: int, action: str = "") -> str:
    return f"/api/v1/concerns/{concern_id}/" + (f"{action}/" if action else "")


@pytest.fixture
def concern(personas: Personas, client_for: Client) -> int:
    """Hana (a helper) is worried about Alice's bruising."""
    response = raise_concern(
        client_for(personas.hana),
        about_member_id=personas.alice.pk,
        what_happened="Alice had bruises on her arms she would not talk about.",
        happened_on=(timezone.localdate() - timedelta(days=1)).isoformat(),
    )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def test_a_helper_raises_a_concern_and_it_tops_the_coordinators_queue(
    personas: Personas, client_for: Client, concern: int
) -> None:
    item = Item.objects.get(kind=ItemKind.SAFEGUARDING)
    assert item.cause == f"concern:{concern}"
    assert item.member == personas.alice
    # Neither the queue's item nor any audit row quotes the concern's words.
    assert "bruise" not in item.note
    assert not any("bruise" in str(event.data) for event in AuditEvent.objects.all())
    assert AuditEvent.objects.filter(action="concern.raised", data__concern_id=concern).exists()
    listed = client_for(personas.cora).get(RAISE_URL).json()["results"]
    assert [row["id"] for row in listed] == [concern]
    assert listed[0]["about_member_name"] == "Alice Archer"
    assert "what_happened" not in listed[0]


def test_a_member_and_an_operator_for_a_caller_raise_concerns(
    personas: Personas, client_for: Client
) -> None:
    by_member = raise_concern(
        client_for(personas.bob),
        about_helper_id=personas.hana.pk,
        what_happened="She shouted at me.",
        danger_now=True,
    )
    assert by_member.status_code == 201
    assert set(by_member.json()) == {"id", "received_at"}
    for_caller = raise_concern(
        client_for(personas.otto),
        about_member_id=personas.alice.pk,
        what_happened="Her neighbour rang: Alice has not been seen for three days.",
    )
    assert for_caller.status_code == 201
    first = Concern.objects.get(pk=by_member.json()["id"])
    assert first.danger_now
    assert first.about_helper == personas.hana
    assert first.raised_by == personas.bob.user
    assert Concern.objects.get(pk=for_caller.json()["id"]).raised_by == personas.otto.user


def test_the_coordinator_reads_it_and_each_reading_is_logged(
    personas: Personas, client_for: Client, concern: int
) -> None:
    cora = client_for(personas.cora)
    first = cora.get(url(concern))
    assert first.status_code == 200
    assert first.json()["what_happened"].startswith("Alice had bruises")
    assert first.json()["raised_by_name"] == "Hana Hughes"
    cora.get(url(concern))
    readings = ConcernReading.objects.filter(concern_id=concern)
    assert readings.count() == 2
    assert {reading.reader for reading in readings} == {personas.cora.user}
    assert len(cora.get(url(concern)).json()["readings"]) == 3


def test_an_operator_is_refused_and_nothing_is_logged(
    personas: Personas, client_for: Client, concern: int
) -> None:
    otto = client_for(personas.otto)
    read = otto.get(url(concern))
    assert read.status_code == 403
    assert read.json()["code"] == "concern_forbidden"
    assert otto.get(RAISE_URL).status_code == 403
    assert otto.post(url(concern, "notes"), {"text": "x"}, "json").status_code == 403
    assert not ConcernReading.objects.exists()


def test_the_person_it_is_about_and_other_circles_find_nothing(
    personas: Personas, client_for: Client, concern: int
) -> None:
    for who in (personas.alice, personas.bob, personas.clara):
        response = client_for(who).get(url(concern))
        assert response.status_code == 404
        assert response.json()["code"] == "concern_not_found"
    assert client_for(personas.alice).get(RAISE_URL).status_code == 403
    assert client_for(None).get(url(concern)).status_code == 401


def test_the_raiser_sees_received_and_closed_only(
    personas: Personas, client_for: Client, concern: int
) -> None:
    hana = client_for(personas.hana)
    seen = hana.get(url(concern)).json()
    assert set(seen) == {"id", "received_at", "closed_at"}
    assert seen["closed_at"] is None
    closed = client_for(personas.cora).post(
        url(concern, "close"), {"outcome": "Spoke to Alice's GP; a fall."}, "json"
    )
    assert closed.status_code == 200
    mine = hana.get("/api/v1/circles/southwark/concerns/mine/").json()
    assert [row["id"] for row in mine] == [concern]
    assert mine[0]["closed_at"] is not None
    assert set(mine[0]) == {"id", "received_at", "closed_at"}
    assert not ConcernReading.objects.filter(reader=personas.hana.user).exists()


def test_notes_referral_and_close(personas: Personas, client_for: Client, concern: int) -> None:
    cora = client_for(personas.cora)
    note = cora.post(url(concern, "notes"), {"text": "Rang Alice's daughter."}, "json")
    assert note.status_code == 201
    assert note.json()["author_name"] == "Cora Coordinator"
    referred = cora.post(
        url(concern, "referral"),
        {"referred_on": timezone.localdate().isoformat(), "reference": "SW-2026-114"},
        "json",
    )
    assert referred.status_code == 200
    assert referred.json()["referred_on"] == timezone.localdate().isoformat()
    closed = cora.post(url(concern, "close"), {"outcome": "Referred; council leads."}, "json")
    assert closed.status_code == 200
    stored = Concern.objects.get(pk=concern)
    assert stored.referral_reference == "SW-2026-114"
    assert stored.closed_by == personas.cora.user
    assert stored.outcome
    assert Item.objects.get(cause=f"concern:{concern}").done_at is not None
    actions = set(
        AuditEvent.objects.filter(data__concern_id=concern).values_list("action", flat=True)
    )
    assert {"concern.raised", "concern.note_added", "concern.referred", "concern.closed"} <= actions
    again = cora.post(url(concern, "close"), {"outcome": "Again"}, "json")
    assert again.status_code == 409
    assert again.json()["code"] == "concern_closed"
    late = cora.post(url(concern, "notes"), {"text": "late"}, "json")
    assert late.status_code == 409
    assert late.json()["code"] == "concern_closed"
    assert cora.get(RAISE_URL + "?closed=true").json()["results"][0]["id"] == concern


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"what_happened": "x"}, "concern_about_nobody", "about_member_id"),
        ({"about_member_id": "ALICE", "what_happened": "   "}, "blank", "what_happened"),
        ({"about_member_id": 999999, "what_happened": "x"}, "concern_person_unknown", None),
        ({"about_helper_id": "BOB", "what_happened": "x"}, "concern_not_a_helper", None),
        (
            {"about_member_id": "ALICE", "what_happened": "x", "task_id": 999999},
            "concern_task_unknown",
            "task_id",
        ),
        (
            {"about_member_id": "ALICE", "what_happened": "x", "happened_on": "FUTURE"},
            "date_in_future",
            "happened_on",
        ),
    ],
)
def test_raising_refusals(
    personas: Personas, client_for: Client, body: dict[str, Any], code: str, field: str | None
) -> None:
    ids = {"ALICE": personas.alice.pk, "BOB": personas.bob.pk}
    body = {
        key: ids.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }
    if body.get("happened_on") == "FUTURE":
        body["happened_on"] = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = raise_concern(client_for(personas.hana), **body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    if field:
        assert response.json().get("field") == field
    assert not Concern.objects.exists()


def test_someone_outside_the_circle_cannot_raise_one(
    personas: Personas, client_for: Client
) -> None:
    response = raise_concern(
        client_for(personas.sam), about_member_id=personas.alice.pk, what_happened="x"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_in_circle"


def test_referral_and_close_refusals(personas: Personas, client_for: Client, concern: int) -> None:
    cora = client_for(personas.cora)
    future = cora.post(
        url(concern, "referral"),
        {"referred_on": (timezone.localdate() + timedelta(days=2)).isoformat(), "reference": "R"},
        "json",
    )
    assert future.status_code == 400
    assert future.json()["code"] == "date_in_future"
    blank = cora.post(url(concern, "close"), {"outcome": "  "}, "json")
    assert blank.status_code == 400
    assert blank.json()["code"] == "blank"
    other = client_for(personas.clara).post(url(concern, "close"), {"outcome": "x"}, "json")
    assert other.status_code == 404
    assert Concern.objects.get(pk=concern).closed_at is None


def test_the_members_audit_shows_a_concern_to_coordinators_only(
    personas: Personas, client_for: Client, concern: int
) -> None:
    cora = client_for(personas.cora)
    assert cora.post(url(concern, "notes"), {"text": "Rang her daughter."}, "json").status_code in (
        200,
        201,
    )
    audit = f"/api/v1/members/{personas.alice.pk}/audit/"

    def actions(who: Any) -> list[str]:
        response = client_for(who).get(audit)
        assert response.status_code == 200, response.json()
        return [row["action"] for row in response.json()["results"]]

    assert any(action.startswith("concern.") for action in actions(personas.cora))
    for who in (personas.alice, personas.otto):
        assert not any(action.startswith(("concern.", "followup.")) for action in actions(who))


def test_operators_neither_list_nor_touch_a_concerns_item_through_the_follow_ups_api(
    personas: Personas, client_for: Client, concern: int
) -> None:
    item = Item.objects.get(kind=ItemKind.SAFEGUARDING)
    followups = "/api/v1/circles/southwark/followups/"
    otto, cora = client_for(personas.otto), client_for(personas.cora)

    assert item.pk not in [row["id"] for row in otto.get(followups).json()["results"]]
    assert item.pk in [row["id"] for row in cora.get(followups).json()["results"]]
    for action, body in (("claim", {}), ("notes", {"text": "x"}), ("done", {})):
        response = otto.post(f"/api/v1/followups/{item.pk}/{action}/", body, "json")
        assert response.status_code == 404, (action, response.json())
    # Not even a coordinator closes it apart from its concern.
    refused = cora.post(f"/api/v1/followups/{item.pk}/done/", {}, "json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "concern_open"
    item.refresh_from_db()
    assert item.done_at is None
    assert item.claimed_by is None
