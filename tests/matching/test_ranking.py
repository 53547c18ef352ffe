"""The order of eligible helpers, with the reasons shown: the member's preferred helper first,
then those who helped this member before, then distance, then fewer recent tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from helpers.models import Helper
from matching.models import PreferenceKind, Task, TaskStatus
from matching.rules import Ranked
from matching.selectors import task_matches, task_matches_naive
from members.models import Member
from tests.conftest import Personas
from tests.matching.tasks_factory import helper_near, make_task, word

pytestmark = pytest.mark.django_db


def ranked(task: Task, limit: int | None = None) -> list[Ranked]:
    fast = task_matches(task=task, limit=limit)
    naive = task_matches_naive(task=task)
    assert fast == (naive if limit is None else naive[:limit])
    return fast


def served(
    member: Member, helper: Helper, *, times: int = 1, status: str = TaskStatus.SETTLED
) -> None:
    for _ in range(times):
        make_task(member=member, status=status, helper=helper)


def test_preferred_then_served_before_then_distance_then_fewer_recent_tasks(
    personas: Personas,
) -> None:
    alice, bob = personas.alice, personas.bob
    preferred = helper_near(alice, north_km=4, name="Pat Preferred")
    regular = helper_near(alice, north_km=3, name="Sid Served")
    busy = helper_near(alice, east_km=1, name="Bea Busy")
    free = helper_near(alice, north_km=-1, name="Fay Free")
    far = helper_near(alice, north_km=2.5, name="Fred Far")
    word(alice, preferred, PreferenceKind.PREFERRED)
    served(alice, regular, times=2)
    for _ in range(3):  # Bea took three of Bob's tasks this month: busy, but not Alice's helper
        make_task(member=bob, status=TaskStatus.ACCEPTED, helper=busy)
    task = make_task(member=alice)

    matches = ranked(task)

    assert [m.helper_id for m in matches] == [preferred.pk, regular.pk, free.pk, busy.pk, far.pk]
    assert [m.first_name for m in matches] == ["Pat", "Sid", "Fay", "Bea", "Fred"]
    assert [m.reasons for m in matches] == [
        ("Alice's preferred helper", "4.0 km away", "0 tasks in the last 30 days"),
        ("Helped Alice 2 times before", "3.0 km away", "2 tasks in the last 30 days"),
        ("1.0 km away", "0 tasks in the last 30 days"),
        ("1.0 km away", "3 tasks in the last 30 days"),
        ("2.5 km away", "0 tasks in the last 30 days"),
    ]
    assert [m.distance_km for m in matches] == [4.0, 3.0, 1.0, 1.0, 2.5]
    assert [m.served_before for m in matches] == [0, 2, 0, 0, 0]
    assert [m.recent_tasks for m in matches] == [0, 2, 0, 3, 0]
    assert matches[0].preferred
    assert not any(m.preferred for m in matches[1:])
    # The score encodes the order: sorting by it is the ranking.
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)


def test_only_finished_tasks_for_this_member_count_as_helped_before(personas: Personas) -> None:
    alice, bob = personas.alice, personas.bob
    completed = helper_near(alice, north_km=3)
    accepted_only = helper_near(alice, north_km=2)
    bobs_helper = helper_near(alice, north_km=2.5)
    served(alice, completed, status=TaskStatus.COMPLETED)
    make_task(member=alice, status=TaskStatus.ACCEPTED, helper=accepted_only)
    served(bob, bobs_helper)
    task = make_task(member=alice)

    matches = ranked(task)

    assert [m.helper_id for m in matches] == [completed.pk, accepted_only.pk, bobs_helper.pk]
    assert matches[0].reasons[0] == "Helped Alice 1 time before"
    assert [m.served_before for m in matches] == [1, 0, 0]
    # Taking a task counts towards the recent load whether or not it is done, whoever's it is.
    assert [m.recent_tasks for m in matches] == [1, 1, 1]


def test_recent_tasks_count_the_last_30_days_and_only_break_ties_of_distance(
    personas: Personas,
) -> None:
    alice, bob = personas.alice, personas.bob
    long_ago = helper_near(alice, north_km=1.0)
    lately = helper_near(alice, north_km=1.0, east_km=0.01)
    nearer_but_busy = helper_near(alice, north_km=0.8)
    make_task(
        member=bob,
        status=TaskStatus.ACCEPTED,
        helper=long_ago,
        accepted_at=timezone.now() - timedelta(days=31),
    )
    make_task(
        member=bob,
        status=TaskStatus.ACCEPTED,
        helper=lately,
        accepted_at=timezone.now() - timedelta(days=29),
    )
    for _ in range(4):
        make_task(member=bob, status=TaskStatus.ACCEPTED, helper=nearer_but_busy)
    task = make_task(member=alice)

    matches = ranked(task)

    assert [m.helper_id for m in matches] == [nearer_but_busy.pk, long_ago.pk, lately.pk]
    assert [m.recent_tasks for m in matches] == [4, 0, 1]
    assert matches[0].score > matches[1].score > matches[2].score


def test_helpers_alike_in_every_respect_come_in_a_stable_order(personas: Personas) -> None:
    twins = [helper_near(personas.alice, north_km=2) for _ in range(3)]
    task = make_task(member=personas.alice)

    matches = ranked(task)

    assert [m.helper_id for m in matches] == sorted(h.pk for h in twins)
    assert len({m.score for m in matches}) == 1


def test_a_limit_gives_the_best_few(personas: Personas) -> None:
    helpers = [helper_near(personas.alice, north_km=km) for km in (4, 1, 3, 2)]
    task = make_task(member=personas.alice)

    best = ranked(task, limit=2)

    assert [m.helper_id for m in best] == [helpers[1].pk, helpers[3].pk]
    assert ranked(task, limit=10) == ranked(task)


def test_a_preferred_helper_who_is_not_eligible_is_not_offered(personas: Personas) -> None:
    alice = personas.alice
    preferred = helper_near(alice, north_km=1, skills=["diy"])
    other = helper_near(alice, north_km=2)
    word(alice, preferred, PreferenceKind.PREFERRED)
    task = make_task(member=alice, category="gardening")

    assert [m.helper_id for m in ranked(task)] == [other.pk]
