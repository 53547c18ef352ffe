"""The reports' task figures, each checked against a small history worked out by hand, on
SQLite and PostgreSQL (the wait percentiles are computed differently on each)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from circle.periods import report_period
from matching.selectors import acceptance_waits_by_category, help_by_category, tasks_by_week
from tests.conftest import Personas
from tests.matching.conftest import give_tokens
from tests.report_history import task_lived

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def rich(world: Personas) -> None:
    give_tokens(world.alice, minutes=6000)


def monday_noon(weeks_ago: int) -> datetime:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday(), weeks=weeks_ago)
    return timezone.make_aware(datetime(monday.year, monday.month, monday.day, 12))  # noqa: DTZ001


def test_waits_are_the_median_and_90th_percentile_per_category(world: Personas) -> None:
    asked = monday_noon(3)
    for wait in (HOUR, 2 * HOUR, 3 * HOUR, 10 * HOUR):
        task_lived(member=world.alice, helper=world.hana_helper, asked=asked, wait=wait)
    task_lived(
        member=world.alice,
        helper=world.hana_helper,
        asked=asked,
        wait=timedelta(minutes=30),
        category="odd-jobs",
    )
    # Never accepted: no wait to count.
    task_lived(member=world.alice, helper=world.hana_helper, asked=asked, estimate=30)

    waits = acceptance_waits_by_category(circle=world.southwark, period=report_period(months=3))

    assert [(w.category, w.tasks) for w in waits] == [("Gardening", 4), ("Odd jobs", 1)]
    gardening, odd_jobs = waits
    # Median of 1, 2, 3, 10 hours: half way between 2 and 3. 90th: position 0.9 * 3 = 2.7,
    # so 3 hours and 0.7 of the 7 hours to the next.
    assert gardening.median_seconds == pytest.approx(2.5 * 3600, abs=1)
    assert gardening.p90_seconds == pytest.approx(7.9 * 3600, abs=1)
    assert odd_jobs.median_seconds == pytest.approx(1800, abs=1)
    assert odd_jobs.p90_seconds == pytest.approx(1800, abs=1)


def test_waits_leave_out_tasks_accepted_before_the_period(world: Personas) -> None:
    task_lived(member=world.alice, helper=world.hana_helper, asked=monday_noon(30), wait=HOUR)

    assert (
        acceptance_waits_by_category(circle=world.southwark, period=report_period(months=3)) == []
    )
    assert len(acceptance_waits_by_category(circle=world.southwark, period=report_period())) == 1


def test_tasks_are_counted_in_the_week_of_each_step(world: Personas) -> None:
    # Asked on a Monday three weeks ago; accepted the same week; done and confirmed two days
    # later (the Wednesday): all in that week. Another asked last week, never taken.
    task_lived(
        member=world.alice, helper=world.hana_helper, asked=monday_noon(3), wait=HOUR, minutes=60
    )
    task_lived(member=world.alice, helper=world.hana_helper, asked=monday_noon(1), estimate=30)

    weeks = tasks_by_week(circle=world.southwark, period=report_period(months=3))

    by_week = {w.week: (w.asked, w.accepted, w.settled) for w in weeks}
    assert by_week[monday_noon(3).date()] == (1, 1, 1)
    assert by_week[monday_noon(1).date()] == (1, 0, 0)
    assert sum(w.asked for w in weeks) == 2
    # Every week of the period is there, zeros included, Mondays in order.
    assert all(w.week.weekday() == 0 for w in weeks)
    assert [w.week for w in weeks] == sorted(w.week for w in weeks)


def test_help_is_the_minutes_reported_on_settled_tasks_by_category(world: Personas) -> None:
    asked = monday_noon(2)
    task_lived(member=world.alice, helper=world.hana_helper, asked=asked, wait=HOUR, minutes=60)
    task_lived(member=world.alice, helper=world.hana_helper, asked=asked, wait=HOUR, minutes=75)
    # Accepted but not done: no help yet.
    task_lived(member=world.alice, helper=world.hana_helper, asked=asked, wait=HOUR)

    rows = help_by_category(circle=world.southwark, period=report_period(months=3))

    found = {row.category: (row.tasks, row.minutes) for row in rows}
    assert found["Gardening"] == (2, 135)
    assert found["Lifts"] == (0, 0)
    assert len(rows) == 8


def test_another_circles_tasks_are_not_counted(world: Personas) -> None:
    task_lived(
        member=world.alice, helper=world.hana_helper, asked=monday_noon(2), wait=HOUR, minutes=60
    )
    period = report_period(months=3)

    assert sum(w.asked for w in tasks_by_week(circle=world.suffolk, period=period)) == 0
    assert acceptance_waits_by_category(circle=world.suffolk, period=period) == []
    assert sum(r.minutes for r in help_by_category(circle=world.suffolk, period=period)) == 0
