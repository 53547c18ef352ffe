"""Numbers and times as people say them (circle/words.py), for pages, emails and texts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from djmoney.money import Money

from circle import words


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (Money("10", "GBP"), "£10.00"),
        (Money("1234.5", "GBP"), "£1,234.50"),
        (Decimal("0.005"), "£0.01"),
        (Money("-3", "GBP"), "-£3.00"),
        (Money("5", "EUR"), "€5.00"),
    ],
)
def test_money_always_has_pence(value, said):
    assert words.money(value) == said


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (0, "no time"),
        (1, "1 minute"),
        (30, "30 minutes"),
        (60, "1 hour"),
        (90, "1 hour 30 minutes"),
        (150, "2 hours 30 minutes"),
        (-90, "1 hour 30 minutes"),
    ],
)
def test_duration_in_hours_and_minutes(minutes, said):
    assert words.duration(minutes) == said


def test_time_and_tokens_give_tokens_in_brackets():
    assert words.time_and_tokens(90, token_minutes=60) == "1 hour 30 minutes (1.5 tokens)"
    assert words.time_and_tokens(60, token_minutes=60) == "1 hour (1 token)"
    assert words.time_and_tokens(120, token_minutes=60) == "2 hours (2 tokens)"
    # A circle whose token buys 30 minutes.
    assert words.time_and_tokens(45, token_minutes=30) == "45 minutes (1.5 tokens)"


def test_window_is_said_in_london_time_across_the_clock_change():
    # 8 December 2026 is a Tuesday; London is on GMT then.
    start = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    end = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert words.window(start, end, today=date(2026, 12, 1)) == "Tuesday 8 December, 10am to 12pm"
    # In summer, 09:30 UTC is 10:30am in London.
    summer = datetime(2026, 7, 7, 9, 30, tzinfo=UTC)
    assert (
        words.window(summer, summer.replace(hour=11, minute=0), today=date(2026, 7, 1))
        == "Tuesday 7 July, 10:30am to 12pm"
    )


def test_window_names_the_year_only_when_it_is_not_this_one():
    start = datetime(2027, 1, 5, 14, 0, tzinfo=UTC)
    said = words.window(start, start.replace(hour=15), today=date(2026, 12, 1))
    assert said == "Tuesday 5 January 2027, 2pm to 3pm"


def test_window_over_midnight_names_both_days():
    start = datetime(2026, 12, 8, 22, 0, tzinfo=UTC)
    end = datetime(2026, 12, 9, 1, 0, tzinfo=UTC)
    said = words.window(start, end, today=date(2026, 12, 1))
    assert said == "Tuesday 8 December, 10pm to Wednesday 9 December, 1am"


def test_midnight_and_noon():
    assert words.clock(datetime(2026, 12, 8, 0, 0, tzinfo=UTC)) == "12am"
    assert words.clock(datetime(2026, 12, 8, 12, 0, tzinfo=UTC)) == "12pm"
