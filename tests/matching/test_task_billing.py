"""`matching.selectors.task_billing`: what a completed task costs, as the API's `billing` and
the pages show it."""

from __future__ import annotations

from circle.models import Circle
from matching.models import Task
from matching.selectors import task_billing


def _task(**minutes: int | None) -> Task:
    minutes.setdefault("estimated_minutes", 60)
    return Task(circle=Circle(token_minutes=60, billing_increment_minutes=30), **minutes)


def test_no_billing_before_the_helper_reports() -> None:
    assert task_billing(_task(minutes_reported=None, minutes_billed=None)) is None


def test_reported_and_billed_before_confirming() -> None:
    billing = task_billing(_task(minutes_reported=40, minutes_billed=60, minutes_settled=None))

    assert billing is not None
    assert (billing.reported.minutes, billing.billed.tokens) == (40, 1)
    assert billing.increment_minutes == 30
    assert (billing.settled, billing.unpaid, billing.note) == (None, None, "")


def test_an_unpaid_overrun_is_said_in_words() -> None:
    billing = task_billing(_task(minutes_reported=90, minutes_billed=90, minutes_settled=60))

    assert billing is not None
    assert billing.unpaid is not None
    assert billing.unpaid.minutes == 30
    assert "60 of 90 minutes were paid and 30 are unpaid" in billing.note


def test_nothing_unpaid_means_no_note() -> None:
    billing = task_billing(_task(minutes_reported=60, minutes_billed=60, minutes_settled=60))

    assert billing is not None
    assert billing.unpaid is not None
    assert billing.unpaid.minutes == 0
    assert billing.note == ""
