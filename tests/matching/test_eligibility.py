"""Each eligibility rule of DESIGN.md on its own: a helper who meets every rule but one is left
out, with that rule's code, by the fast path, the naive reference and the helper's feed alike;
the same helper meeting that rule too is in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from circle.models import VettingLevel
from helpers.models import Helper
from helpers.services import helper_suspension_set
from matching.models import PreferenceKind, Task
from matching.selectors import (
    helper_feed,
    helper_feed_naive,
    helper_ineligibility,
    task_matches,
    task_matches_naive,
)
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.tasks_factory import helper_near, make_task, offset, slot, word

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def local(*args: int) -> datetime:
    """A Europe/London wall-clock time (the zone availability slots are in)."""
    return datetime(*args, tzinfo=LONDON)


def matched_ids(task: Task) -> list[int]:
    fast = [r.helper_id for r in task_matches(task=task)]
    assert fast == [r.helper_id for r in task_matches_naive(task=task)]
    return fast


def in_feed(helper: Helper, task: Task) -> bool:
    fast = [item.task.pk for item in helper_feed(helper=helper)]
    assert fast == [item.task.pk for item in helper_feed_naive(helper=helper)]
    return task.pk in fast


def assert_eligible(task: Task, helper: Helper) -> None:
    assert helper_ineligibility(task=task, helper=helper) is None
    assert helper.pk in matched_ids(task)
    assert in_feed(helper, task)


def assert_ineligible(task: Task, helper: Helper, code: str) -> None:
    why = helper_ineligibility(task=task, helper=helper)
    assert why is not None
    assert why.code == code
    assert why.detail
    assert helper.pk not in matched_ids(task)
    assert not in_feed(helper, task)


@pytest.fixture
def task(personas: Personas) -> Task:
    """Alice's gardening (basic vetting) tomorrow, two hours."""
    return make_task(member=personas.alice, category="gardening")


def test_a_helper_meeting_every_rule_is_eligible(personas: Personas, task: Task) -> None:
    helper = helper_near(personas.alice, north_km=1)

    assert_eligible(task, helper)
    (match,) = task_matches(task=task)
    assert match.helper_id == helper.pk
    assert match.distance_km == pytest.approx(1.0, abs=0.05)


def test_a_helper_of_another_circle_is_never_offered(personas: Personas, task: Task) -> None:
    # In Suffolk's circle, but living next door to Alice and skilled for the task.
    helper = helper_near(personas.alice, circle=personas.suffolk)

    why = helper_ineligibility(task=task, helper=helper)
    assert why is not None
    assert why.code == "other_circle"
    assert helper.pk not in matched_ids(task)
    assert not in_feed(helper, task)


def test_a_suspended_helper_is_not_offered_until_reinstated(personas: Personas, task: Task) -> None:
    helper = helper_near(personas.alice)
    cora = caller_for(user=personas.cora.user, circle=personas.southwark)
    helper_suspension_set(helper=helper, caller=cora, suspended=True, reason="Complaint")
    helper.refresh_from_db()

    assert_ineligible(task, helper, "helper_suspended")

    helper_suspension_set(helper=helper, caller=cora, suspended=False, reason="Cleared")
    helper.refresh_from_db()
    assert_eligible(task, helper)


@pytest.mark.parametrize(
    ("category", "level", "code"),
    [
        ("gardening", VettingLevel.NONE, "vetting_too_low"),
        ("gardening", VettingLevel.BASIC, None),
        ("gardening", VettingLevel.ENHANCED, None),
        ("shopping", VettingLevel.BASIC, "vetting_too_low"),
        ("shopping", VettingLevel.ENHANCED, None),
    ],
)
def test_the_vetting_level_must_be_at_least_the_categorys(
    personas: Personas, category: str, level: str, code: str | None
) -> None:
    task = make_task(member=personas.alice, category=category)
    helper = helper_near(personas.alice, skills=[category], vetting_level=level)

    if code is None:
        assert_eligible(task, helper)
    else:
        assert_ineligible(task, helper, code)


def test_the_helper_must_have_the_skill(personas: Personas) -> None:
    diy = make_task(member=personas.alice, category="diy")
    helper = helper_near(personas.alice, skills=["gardening", "odd-jobs"])
    handy = helper_near(personas.alice, skills=["diy"])

    assert_ineligible(diy, helper, "skill_missing")
    assert_eligible(diy, handy)


def test_the_member_must_live_within_the_helpers_radius(personas: Personas, task: Task) -> None:
    inside = helper_near(personas.alice, north_km=4.9, radius_km="5")
    outside = helper_near(personas.alice, east_km=5.2, radius_km="5")
    wide = helper_near(personas.alice, east_km=5.2, radius_km="6")

    assert_eligible(task, inside)
    why = helper_ineligibility(task=task, helper=outside)
    assert why is not None
    assert why.code == "too_far"
    assert "5.2 km away" in why.detail
    assert_ineligible(task, outside, "too_far")
    assert_eligible(task, wide)


def test_the_radius_is_measured_from_where_the_task_is(personas: Personas) -> None:
    # The task keeps the place it was booked for, not where the member lives now.
    latitude, longitude = offset(personas.alice.latitude, personas.alice.longitude, north_km=8)
    away = make_task(member=personas.alice, latitude=latitude, longitude=longitude)
    at_home = helper_near(personas.alice)
    up_there = helper_near(personas.alice, north_km=7)

    assert_ineligible(away, at_home, "too_far")
    assert_eligible(away, up_there)


def test_a_helper_with_no_slots_is_available_any_time(personas: Personas) -> None:
    night = make_task(member=personas.alice, start=local(2027, 3, 23, 3, 0), hours=1)
    helper = helper_near(personas.alice)

    assert_eligible(night, helper)


@pytest.mark.parametrize(
    ("start", "hours", "eligible"),
    [
        (local(2027, 3, 23, 11, 0), 2, True),  # Tuesday 11-13 overlaps 10-12
        (local(2027, 3, 23, 9, 0), 1.5, True),  # 9-10:30 overlaps its start
        (local(2027, 3, 23, 12, 0), 2, False),  # starts as the slot ends
        (local(2027, 3, 23, 8, 0), 2, False),  # ends as the slot starts
        (local(2027, 3, 24, 10, 0), 2, False),  # Wednesday
        (local(2027, 3, 30, 10, 30), 1, True),  # a week later
        (local(2027, 3, 17, 13, 0), 24 * 9, True),  # nine days from a Wednesday
        (local(2027, 3, 23, 11, 59, 59), 1 / 3600, True),  # the slot's last second
        (local(2027, 3, 22, 12, 0), 22, False),  # Monday noon to Tuesday 10:00 exactly
        (local(2027, 3, 22, 12, 0), 22.01, True),  # ... and 36 seconds more
    ],
)
def test_availability_must_cover_part_of_the_window(
    personas: Personas, start: datetime, hours: float, eligible: bool
) -> None:
    task = make_task(member=personas.alice, start=start, hours=hours)
    helper = helper_near(personas.alice)
    slot(helper, 1, "10:00", "12:00")  # Tuesdays
    slot(helper, 4, "14:00", "16:00")  # Fridays

    if eligible:
        assert_eligible(task, helper)
    else:
        assert_ineligible(task, helper, "not_available")


@pytest.mark.parametrize(
    ("weekday", "start", "end", "eligible"),
    [
        (0, "22:00", "23:30", True),  # Monday evening, before midnight
        (1, "00:00", "02:00", True),  # Tuesday, after midnight
        (1, "02:00", "04:00", False),  # Tuesday, after the window
        (0, "09:00", "12:00", False),  # Monday morning
    ],
)
def test_availability_is_checked_on_each_day_of_a_window_across_midnight(
    personas: Personas, weekday: int, start: str, end: str, eligible: bool
) -> None:
    # Monday 23:00 to Tuesday 01:00.
    task = make_task(member=personas.alice, start=local(2027, 3, 22, 23, 0), hours=2)
    helper = helper_near(personas.alice)
    slot(helper, weekday, start, end)

    if eligible:
        assert_eligible(task, helper)
    else:
        assert_ineligible(task, helper, "not_available")


@pytest.mark.parametrize(
    ("utc_start", "eligible"),
    [
        # Sunday 28 March 2027: clocks went forward at 01:00 UTC, so 09:30 UTC is 10:30 BST.
        (datetime(2027, 3, 28, 9, 30, tzinfo=UTC), True),
        (datetime(2027, 3, 28, 10, 30, tzinfo=UTC), False),  # 11:30 BST
        # Sunday 31 October 2027: back to GMT, so 10:30 UTC is 10:30 local.
        (datetime(2027, 10, 31, 10, 30, tzinfo=UTC), True),
        (datetime(2027, 10, 31, 9, 30, tzinfo=UTC), False),  # 09:30 GMT
    ],
)
def test_slots_are_london_wall_clock_times_across_summer_time(
    personas: Personas, utc_start: datetime, eligible: bool
) -> None:
    task = make_task(member=personas.alice, start=utc_start, hours=0.5)
    helper = helper_near(personas.alice)
    slot(helper, 6, "10:00", "11:00")  # Sundays 10-11, whatever the season

    if eligible:
        assert_eligible(task, helper)
    else:
        assert_ineligible(task, helper, "not_available")


def test_a_helper_the_member_blocked_is_not_offered(personas: Personas, task: Task) -> None:
    helper = helper_near(personas.alice)
    word(personas.alice, helper, PreferenceKind.BLOCKED)
    bobs = make_task(member=personas.bob)

    assert_ineligible(task, helper, "blocked_by_member")
    # Only Alice blocked them: Bob's tasks are still theirs to take.
    assert_eligible(bobs, helper)


def test_a_helper_cannot_take_their_own_request(personas: Personas) -> None:
    hana = personas.hana_helper
    Helper.objects.filter(pk=hana.pk).update(vetting_level=VettingLevel.BASIC)
    hana.refresh_from_db()
    own = make_task(member=personas.hana)
    alices = make_task(member=personas.alice)

    assert_ineligible(own, hana, "own_task")
    assert_eligible(alices, hana)


def test_the_feed_leaves_out_tasks_whose_window_has_ended(personas: Personas) -> None:
    helper = helper_near(personas.alice)
    ended = make_task(member=personas.alice, start=timezone.now() - timedelta(hours=3), hours=2)
    running = make_task(member=personas.alice, start=timezone.now() - timedelta(hours=1), hours=2)

    feed = [item.task.pk for item in helper_feed(helper=helper)]

    assert feed == [running.pk]
    assert ended.pk not in [item.task.pk for item in helper_feed_naive(helper=helper)]


def test_the_feed_lists_open_tasks_nearest_first_with_their_distance(
    personas: Personas,
) -> None:
    helper = helper_near(personas.alice, radius_km="10")
    tasks = {}
    for km in (3, 1, 7, 12):
        latitude, longitude = offset(helper.latitude, helper.longitude, east_km=km)
        tasks[km] = make_task(member=personas.alice, latitude=latitude, longitude=longitude)

    feed = helper_feed(helper=helper)

    assert [item.task.pk for item in feed] == [tasks[1].pk, tasks[3].pk, tasks[7].pk]
    assert [item.distance_km for item in feed] == [1.0, 3.0, 7.0]
    assert feed == helper_feed_naive(helper=helper)
