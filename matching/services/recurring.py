"""Recurring tasks: a series books its occurrences ahead, skipping (once, in the audit log) any
it cannot book."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from circle.errors import DomainError, InvalidInput
from matching.models import (
    RecurrenceInterval,
    Task,
    TaskSeries,
    TaskStatus,
)
from matching.rules import local_zone
from matching.services.booking import _book, _check_booking, _require_served
from matching.services.common import _now
from matching.services.lifecycle import task_cancel
from members.models import AuditEvent, Member
from members.selectors import Caller
from members.services import audit_record


def _occurrence_window(series: TaskSeries, day: date) -> tuple[datetime, datetime]:
    # Wall-clock times in London: 10:00 stays 10:00 across the change to summer time.
    zone = local_zone()
    return (
        datetime.combine(day, series.start_time, tzinfo=zone),
        datetime.combine(day, series.end_time, tzinfo=zone),
    )


def _occurrence_reference(series: TaskSeries, day: date) -> str:
    return f"series:{series.pk}:{day.isoformat()}"


def series_create(
    *,
    member: Member,
    caller: Caller,
    category: str,
    title: str,
    details: str = "",
    window_start: datetime,
    window_end: datetime,
    estimated_minutes: int,
    interval_weeks: int,
    reason: str = "",
    call_reference: str = "",
    now: datetime | None = None,
) -> TaskSeries:
    """A task again every week or fortnight, from the first occurrence's window (its weekday
    and wall-clock times in London). The first occurrence is booked with the series, in the
    same transaction (if it cannot be, nothing is written); later ones are booked ahead by
    `series_book_ahead`."""
    now = _now(now)
    if interval_weeks not in RecurrenceInterval.values:
        raise InvalidInput(
            "invalid_choice", "A series repeats every 1 or 2 weeks.", field="interval_weeks"
        )
    found = _check_booking(
        member=member,
        category_slug=category,
        window_start=window_start,
        window_end=window_end,
        estimated_minutes=estimated_minutes,
        now=now,
    )
    zone = local_zone()
    start, end = window_start.astimezone(zone), window_end.astimezone(zone)
    if start.date() != end.date():
        raise InvalidInput(
            "window_invalid",
            "A recurring task starts and ends on the same day.",
            field="window_end",
        )
    with transaction.atomic(durable=True):
        series = TaskSeries.objects.create(
            circle=member.circle,
            member=member,
            category=found,
            title=title,
            details=details,
            first_date=start.date(),
            start_time=start.time().replace(tzinfo=None),
            end_time=end.time().replace(tzinfo=None),
            estimated_minutes=estimated_minutes,
            interval_weeks=interval_weeks,
            created_by=caller.user,
            created_at=now,
        )
        audit_record(
            circle=member.circle,
            action="task_series.created",
            caller=caller,
            member=member,
            reason=reason,
            call_reference=call_reference,
            data={"series_id": series.pk, "interval_weeks": interval_weeks},
        )
        first_start, first_end = _occurrence_window(series, series.first_date)
        _book(
            member=member,
            caller=caller,
            category=found,
            title=title,
            details=details,
            window_start=first_start,
            window_end=first_end,
            estimated_minutes=estimated_minutes,
            reference=_occurrence_reference(series, series.first_date),
            series=series,
            now=now,
            reason=reason,
            call_reference=call_reference,
        )
    series_book_ahead(series=series, now=now)
    return series


@dataclass(frozen=True)
class SeriesRun:
    booked: list[Task]
    skipped: list[tuple[date, str]]


def series_book_ahead(*, series: TaskSeries, now: datetime | None = None) -> SeriesRun:
    """Book the series' occurrences that start within MATCHING_SERIES_BOOK_AHEAD_DAYS, each
    its own task with its own hold. An occurrence already booked is left alone (the unique
    (series, window_start) and the hold's reference make a second run a no-op). One that
    cannot be booked (membership not active, too few tokens) is skipped and recorded once in
    the audit log, visible to staff in the member's log; the next run tries it again."""
    now = _now(now)
    run = SeriesRun(booked=[], skipped=[])
    series = TaskSeries.objects.select_related("member", "member__circle", "category").get(
        pk=series.pk
    )
    if not series.active:
        return run
    horizon = now + timedelta(days=settings.MATCHING_SERIES_BOOK_AHEAD_DAYS)
    step = timedelta(weeks=series.interval_weeks)
    day = series.first_date
    # Jump to the first occurrence not yet past.
    local_today = now.astimezone(local_zone()).date()
    if day < local_today:
        day += step * ((local_today - day) // step)
    while True:
        start, end = _occurrence_window(series, day)
        if start > horizon:
            break
        if end > now and not Task.objects.filter(series=series, window_start=start).exists():
            try:
                with transaction.atomic(durable=True):
                    member = Member.objects.select_related("circle").get(pk=series.member_id)
                    _require_served(member)  # it may have lapsed since the series began
                    run.booked.append(
                        _book(
                            member=member,
                            caller=None,
                            category=series.category,
                            title=series.title,
                            details=series.details,
                            window_start=start,
                            window_end=end,
                            estimated_minutes=series.estimated_minutes,
                            reference=_occurrence_reference(series, day),
                            series=series,
                            now=now,
                        )
                    )
            except IntegrityError:
                pass  # a concurrent run booked it
            except DomainError as exc:
                run.skipped.append((day, exc.code))
                _record_skip(series, day, exc)
        day += step
    return run


def _record_skip(series: TaskSeries, day: date, exc: DomainError) -> None:
    recorded = AuditEvent.objects.filter(
        circle_id=series.circle_id,
        action="task_series.occurrence_skipped",
        data__series_id=series.pk,
        data__date=day.isoformat(),
        data__code=exc.code,
    ).exists()
    if recorded:
        return
    with transaction.atomic(durable=True):
        audit_record(
            circle=series.circle,
            action="task_series.occurrence_skipped",
            member=series.member,
            reason=exc.detail,
            data={"series_id": series.pk, "date": day.isoformat(), "code": exc.code},
        )


def series_book_all(*, now: datetime | None = None) -> int:
    """The periodic job: book ahead for every active series. Returns the tasks booked."""
    now = _now(now)
    booked = 0
    for series in TaskSeries.objects.filter(active=True).order_by("id"):
        booked += len(series_book_ahead(series=series, now=now).booked)
    return booked


def series_end(
    *, series: TaskSeries, caller: Caller, reason: str = "", now: datetime | None = None
) -> tuple[TaskSeries, bool]:
    """Stop a series: nothing more is booked, and its open occurrences still to come are
    cancelled (their holds released). An occurrence a helper has accepted stays."""
    now = _now(now)
    with transaction.atomic(durable=True):
        locked = TaskSeries.objects.select_for_update().get(pk=series.pk)
        if not locked.active:
            return locked, False
        TaskSeries.objects.filter(pk=locked.pk).update(active=False, ended_at=now)
        locked.refresh_from_db()
        audit_record(
            circle=locked.circle,
            action="task_series.ended",
            caller=caller,
            member=locked.member,
            reason=reason,
            data={"series_id": locked.pk},
        )
    for task in Task.objects.filter(series=locked, status=TaskStatus.OPEN).order_by("id"):
        task_cancel(task=task, caller=caller, reason=reason or "The series was ended.", now=now)
    return locked, True
