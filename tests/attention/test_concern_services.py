"""The concern services and selectors directly: who may read, what is written, what the
queue's item says (nothing of the concern's words)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attention.models import COORDINATOR_KINDS, Concern, ConcernReading, Item, ItemKind
from attention.selectors import concern_get, concern_list, concerns_raised, queue_items
from attention.services import concern_close, concern_note_add, concern_raise
from circle.errors import Conflict, Forbidden
from members.selectors import Caller, caller_for
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def caller(personas: Personas, who: str) -> Caller:
    member = getattr(personas, who)
    return caller_for(user=member.user, circle=member.circle)


def test_raise_puts_a_wordless_item_at_the_top_of_the_coordinators_queue(
    personas: Personas,
) -> None:
    older = Item.objects.create(
        circle=personas.southwark, member=personas.bob, kind=ItemKind.LOW_RATING, note="1 star"
    )
    concern = concern_raise(
        circle=personas.southwark,
        caller=caller(personas, "hana"),
        about_member_id=personas.alice.pk,
        what_happened="Bruising on her arms.",
        danger_now=True,
    )
    top = queue_items(circle=personas.southwark, kinds=COORDINATOR_KINDS)
    assert [item.pk for item in top][-1] == older.pk
    assert top[0].cause == f"concern:{concern.pk}"
    assert "Bruising" not in top[0].note
    assert "in danger" in top[0].note


def test_only_the_circles_coordinators_read_and_each_reading_is_logged(
    personas: Personas,
) -> None:
    concern = concern_raise(
        circle=personas.southwark,
        caller=caller(personas, "hana"),
        about_member_id=personas.alice.pk,
        what_happened="Bruising.",
        danger_now=False,
    )
    for who in ("otto", "alice", "hana"):
        with pytest.raises(Forbidden):
            concern_get(concern=concern, caller=caller(personas, who))
        with pytest.raises(Forbidden):
            concern_list(circle=personas.southwark, caller=caller(personas, who))
    with pytest.raises(Forbidden):
        concern_get(concern=concern, caller=caller(personas, "clara"))
    assert not ConcernReading.objects.exists()
    whole = concern_get(concern=concern, caller=caller(personas, "cora"))
    assert whole.what_happened == "Bruising."
    assert [reading.reader for reading in whole.readings.all()] == [personas.cora.user]


def test_the_raisers_list_reads_no_words(personas: Personas) -> None:
    concern_raise(
        circle=personas.southwark,
        caller=caller(personas, "hana"),
        about_member_id=personas.alice.pk,
        what_happened="Bruising.",
        danger_now=False,
    )
    with CaptureQueriesContext(connection) as queries:
        mine = concerns_raised(user=personas.hana.user, circle=personas.southwark)
    assert len(mine) == 1
    assert "what_happened" not in queries.captured_queries[0]["sql"]
    assert concerns_raised(user=personas.alice.user, circle=personas.southwark) == []


def test_close_closes_the_item_and_refuses_twice(personas: Personas) -> None:
    concern = concern_raise(
        circle=personas.southwark,
        caller=caller(personas, "otto"),
        about_helper_id=personas.hana.pk,
        what_happened="A caller said Hana shouted.",
        danger_now=False,
    )
    with pytest.raises(Forbidden):
        concern_close(concern=concern, caller=caller(personas, "otto"), outcome="x")
    closed = concern_close(
        concern=concern, caller=caller(personas, "cora"), outcome="Spoke to her."
    )
    assert closed.closed_at is not None
    assert Item.objects.get(cause=f"concern:{concern.pk}").done_at is not None
    with pytest.raises(Conflict):
        concern_close(concern=concern, caller=caller(personas, "cora"), outcome="again")
    with pytest.raises(Conflict):
        concern_note_add(concern=concern, caller=caller(personas, "cora"), text="late")
    assert Concern.objects.get(pk=concern.pk).outcome == "Spoke to her."
