"""A member's word about a helper: preferred (first in the matches) or blocked (never offered,
cannot accept), set and taken back through the API by the member or staff."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from matching.models import HelperPreference
from members.models import AuditEvent
from tests.conftest import Personas
from tests.matching.conftest import FEED_URL, book, new_helper, row_counts, task_url

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


def pref_url(member_id: int, helper_id: int | None = None) -> str:
    base = f"/api/v1/members/{member_id}/preferences/"
    return f"{base}{helper_id}/" if helper_id is not None else base


def test_a_preferred_helper_comes_first_in_the_matches(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice = client_for(world.alice)
    far = new_helper(world, "Ivy", latitude=Decimal("51.52"))
    task = book(alice, task_body())
    before = alice.get(task_url(task["id"], "matches")).json()["results"]
    assert [m["helper_id"] for m in before] == [world.hana_helper.pk, far.pk]

    response = alice.put(pref_url(world.alice.pk, far.pk), {"kind": "preferred"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["kind"] == "preferred"
    after = alice.get(task_url(task["id"], "matches")).json()["results"]
    assert [m["helper_id"] for m in after] == [far.pk, world.hana_helper.pk]
    assert after[0]["reasons"][0] == "Alice's preferred helper"
    assert AuditEvent.objects.filter(action="helper.preferred", member=world.alice).count() == 1


def test_naming_another_preferred_helper_moves_the_word(
    world: Personas, client_for: Client
) -> None:
    alice = client_for(world.alice)
    ivy = new_helper(world, "Ivy")
    alice.put(pref_url(world.alice.pk, world.hana_helper.pk), {"kind": "preferred"}, format="json")

    alice.put(pref_url(world.alice.pk, ivy.pk), {"kind": "preferred"}, format="json")

    listed = alice.get(pref_url(world.alice.pk)).json()
    assert [(p["helper_id"], p["kind"]) for p in listed] == [(ivy.pk, "preferred")]


def test_a_blocked_helper_is_not_offered_and_cannot_accept(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    staff = client_for(world.otto)
    response = staff.put(
        pref_url(world.alice.pk, world.hana_helper.pk), {"kind": "blocked"}, format="json"
    )
    assert response.status_code == 200
    task = book(alice, task_body())
    counts = row_counts()

    assert alice.get(task_url(task["id"], "matches")).json()["count"] == 0
    assert hana.get(FEED_URL).json()["count"] == 0
    refused = hana.post(task_url(task["id"], "accept"))
    assert (refused.status_code, refused.json()["code"]) == (403, "blocked_by_member")
    assert row_counts() == counts

    # Taking the word back: Hana can take Alice's tasks again.
    assert alice.delete(pref_url(world.alice.pk, world.hana_helper.pk)).status_code == 204
    assert alice.delete(pref_url(world.alice.pk, world.hana_helper.pk)).status_code == 204
    assert not HelperPreference.objects.exists()
    assert hana.post(task_url(task["id"], "accept")).status_code == 200


def test_the_same_word_again_changes_nothing(world: Personas, client_for: Client) -> None:
    alice = client_for(world.alice)
    url = pref_url(world.alice.pk, world.hana_helper.pk)
    alice.put(url, {"kind": "blocked"}, format="json")
    counts = row_counts()

    again = alice.put(url, {"kind": "blocked"}, format="json")

    assert again.status_code == 200
    assert row_counts() == counts


def test_bad_words_are_refused(world: Personas, client_for: Client) -> None:
    alice = client_for(world.alice)
    counts = row_counts()

    unknown_kind = alice.put(
        pref_url(world.alice.pk, world.hana_helper.pk), {"kind": "loved"}, format="json"
    )
    no_such_helper = alice.put(pref_url(world.alice.pk, 999999), {"kind": "blocked"}, format="json")
    for_bob = alice.put(
        pref_url(world.bob.pk, world.hana_helper.pk), {"kind": "blocked"}, format="json"
    )
    from_suffolk = client_for(world.clara).put(
        pref_url(world.alice.pk, world.hana_helper.pk), {"kind": "blocked"}, format="json"
    )

    assert unknown_kind.status_code == 400
    assert (no_such_helper.status_code, no_such_helper.json()["code"]) == (404, "helper_not_found")
    assert for_bob.status_code == 403
    assert from_suffolk.status_code == 404
    assert row_counts() == counts
