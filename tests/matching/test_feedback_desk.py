"""The coordinators' reads of feedback: a helper's work and ratings, and the feedback list paged
by keyset (created_at, id), which neither skips nor repeats a row between pages, even among
rows given at the same moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from helpers.models import Helper
from matching.models import Feedback, TaskStatus
from matching.selectors import feedback_page, helper_work
from tests.conftest import Personas
from tests.matching.tasks_factory import make_task

pytestmark = pytest.mark.django_db


def _said(personas: Personas, helper: Helper, rating: int | None, when: datetime) -> Feedback:
    task = make_task(member=personas.alice, status=TaskStatus.SETTLED, helper=helper)
    return Feedback.objects.create(
        circle=personas.southwark, task=task, helper=helper, rating=rating, created_at=when
    )


def test_helper_work_counts_tasks_done_time_and_ratings(personas: Personas) -> None:
    hana = personas.hana_helper
    now = timezone.now()
    for rating in (5, 4, 4, None):
        _said(personas, hana, rating, now)
    make_task(member=personas.alice, status=TaskStatus.COMPLETED, helper=hana, minutes=45)
    make_task(member=personas.alice, status=TaskStatus.ACCEPTED, helper=hana)

    work = helper_work(helper=hana)

    assert (work.tasks_done, work.minutes) == (5, 4 * 60 + 45)
    assert (work.ratings, work.rating_average, work.feedback) == (3, Decimal("4.3"), 4)


def test_a_helper_with_no_work_has_no_average(personas: Personas) -> None:
    work = helper_work(helper=personas.hana_helper)
    assert (work.tasks_done, work.minutes, work.ratings, work.rating_average) == (0, 0, 0, None)


def test_keyset_pages_neither_skip_nor_repeat_rows_given_at_the_same_moment(
    personas: Personas,
) -> None:
    moment = timezone.now() - timedelta(days=1)
    rows = [_said(personas, personas.hana_helper, 3, moment) for _ in range(7)]
    rows += [
        _said(personas, personas.hana_helper, 3, moment - timedelta(hours=1)) for _ in range(3)
    ]

    seen: list[int] = []
    after = ""
    pages = 0
    while True:
        page = feedback_page(circle=personas.southwark, after=after, limit=3)
        seen += [row.pk for row in page.rows]
        pages += 1
        if not page.next_after:
            break
        after = page.next_after

    expected = sorted(rows, key=lambda r: (r.created_at, r.pk), reverse=True)
    assert seen == [row.pk for row in expected]
    assert pages == 4


def test_low_only_and_by_helper(personas: Personas) -> None:
    now = timezone.now()
    low = _said(personas, personas.hana_helper, 2, now)
    _said(personas, personas.hana_helper, 3, now)
    _said(personas, personas.hana_helper, None, now)

    page = feedback_page(circle=personas.southwark, low_only=True)

    assert [row.pk for row in page.rows] == [low.pk]
    assert feedback_page(circle=personas.suffolk).rows == []
    assert (
        len(feedback_page(circle=personas.southwark, helper_id=personas.hana_helper.pk).rows) == 3
    )
