"""How long ago, as the follow-ups say it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from circle.words import ago

NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "said"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=45), "45 minutes ago"),
        (timedelta(hours=1), "1 hour ago"),
        (timedelta(hours=14), "14 hours ago"),
        (timedelta(hours=26), "yesterday"),
        (timedelta(days=3, hours=2), "3 days ago"),
        (timedelta(days=40), "40 days ago"),
        (-timedelta(minutes=5), "just now"),  # a clock a little ahead never says "in 5 minutes"
    ],
)
def test_ago_says_how_long_as_people_do(before: timedelta, said: str) -> None:
    assert ago(NOW - before, now=NOW) == said


def test_days_count_in_london_calendar_days() -> None:
    # 11pm on the 6th to 1am on the 8th is 26 hours, but two days by the calendar.
    late = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    assert ago(late, now=datetime(2026, 12, 8, 1, 0, tzinfo=UTC)) == "2 days ago"
