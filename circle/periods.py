"""The span of time a report covers: whole months in London time, ending now.

Every app's report selectors take one `ReportPeriod`, so the charts on one page agree on where
a month (or a week) starts: midnight in Europe/London, the circle's time zone, not UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

# The choices a coordinator has, in months; the first page shows the last year.
PERIOD_MONTHS = (3, 6, 12, 24)
DEFAULT_MONTHS = 12


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ReportPeriod:
    """`months` whole calendar months, the current one last (so far as it has gone):
    from `start` (aware, midnight on the 1st, London) up to `end` (now)."""

    months: int
    start: datetime
    end: datetime

    def month_starts(self) -> list[date]:
        first = timezone.localtime(self.start).date()
        return [_month_add(first, i) for i in range(self.months)]

    def week_starts(self) -> list[date]:
        """The Mondays of the weeks the period touches (the first may begin before it)."""
        first = timezone.localtime(self.start).date()
        monday = first - timedelta(days=first.weekday())
        last = timezone.localtime(self.end).date()
        weeks = []
        while monday <= last:
            weeks.append(monday)
            monday += timedelta(days=7)
        return weeks


def report_period(*, months: int = DEFAULT_MONTHS, now: datetime | None = None) -> ReportPeriod:
    """The last `months` months up to `now` (default: the present), this month included."""
    if months not in PERIOD_MONTHS:
        raise ValueError(f"a report covers one of {PERIOD_MONTHS} months, not {months}")
    now = now or timezone.now()
    this_month = timezone.localtime(now).date().replace(day=1)
    first = _month_add(this_month, -(months - 1))
    # Midnight in London on the 1st (make_aware gives the right offset, summer or winter).
    start = timezone.make_aware(datetime(first.year, first.month, 1))  # noqa: DTZ001
    return ReportPeriod(months=months, start=start, end=now)


def local_date(value: datetime | date) -> date:
    """A truncated date the database returned (aware at midnight London) as a plain date."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value
