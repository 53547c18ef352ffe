"""Claiming a follow-up and noting it over the API: `POST /api/v1/followups/{id}/claim/` and
`POST /api/v1/followups/{id}/notes/`, the same services as the console's pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from attention.models import Item, ItemKind, Note
from attention.services import item_raise
from members.models import AuditEvent, Member
from tests.conftest import Personas

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(personas: Personas) -> Item:
    raised = item_raise(member=personas.alice, kind=ItemKind.GRACE, cause="p:1", note="Ring her")
    assert raised is not None
    return raised


def claim(client: APIClient, item: Item, **body: Any) -> Any:
    return client.post(f"/api/v1/followups/{item.pk}/claim/", body, "json")


def note(client: APIClient, item: Item, text: Any) -> Any:
    return client.post(f"/api/v1/followups/{item.pk}/notes/", {"text": text}, "json")


def test_staff_claim_and_the_list_says_who_has_it(
    personas: Personas, client_for: Client, item: Item
) -> None:
    otto = client_for(personas.otto)

    response = claim(otto, item)

    assert response.status_code == 200, response.content
    assert response.json()["claimed_by_name"] == "Otto Operator"
    assert response.json()["claimed_at"] is not None
    (line,) = otto.get("/api/v1/circles/southwark/followups/").json()["results"]
    assert line["claimed_by_name"] == "Otto Operator"


def test_a_claim_on_someone_elses_item_is_a_409_until_taken_over(
    personas: Personas, client_for: Client, item: Item
) -> None:
    claim(client_for(personas.otto), item)
    cora = client_for(personas.cora)

    refused = claim(cora, item)
    assert refused.status_code == 409
    assert refused.json()["code"] == "already_claimed"
    assert "Otto Operator" in refused.json()["detail"]

    taken = claim(cora, item, take_over_from=personas.otto.user_id)
    assert taken.status_code == 200
    assert taken.json()["claimed_by_name"] == "Cora Coordinator"


def test_a_note_is_added_by_whoever_wrote_it(
    personas: Personas, client_for: Client, item: Item
) -> None:
    response = note(client_for(personas.cora), item, "Rang; no answer.")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["followup_id"], body["text"], body["author_name"]) == (
        item.pk,
        "Rang; no answer.",
        "Cora Coordinator",
    )
    assert Note.objects.get().author == personas.cora.user


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001, None])
def test_a_bad_note_is_a_400_and_writes_nothing(
    personas: Personas, client_for: Client, item: Item, text: Any
) -> None:
    audit = AuditEvent.objects.count()

    response = note(client_for(personas.otto), item, text)

    assert response.status_code == 400
    assert response.json()["field"] == "text"
    assert Note.objects.count() == 0
    assert AuditEvent.objects.count() == audit


@pytest.mark.parametrize("who", ["alice", "clara"])
def test_members_and_other_circles_cannot_claim_or_note(
    personas: Personas, client_for: Client, item: Item, who: str
) -> None:
    person: Member = getattr(personas, who)
    client = client_for(person)

    expected = 403 if who == "alice" else 404
    assert claim(client, item).status_code == expected
    assert note(client, item, "Hello").status_code == expected
    assert Item.objects.get(pk=item.pk).claimed_by is None
    assert Note.objects.count() == 0
