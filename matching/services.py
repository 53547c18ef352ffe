"""Writes for tasks: booking, accepting, completing, confirming, cancelling and expiring them,
recurring series, and members' words about helpers.

Every transition runs in one durable transaction that locks the task's row, moves tokens only
through the ledger services (`hold_create`, `hold_settle`, `hold_release`), and writes its
audit row. Every one is idempotent: the same call again finds the task already where it
would have put it and answers the same result, moving nothing (`Outcome.changed` is False).
Notifications are queued with `transaction.on_commit`, so nobody is told of a change that
rolled back. A transition PostgreSQL aborts for a deadlock or a serialisation failure is run
again whole (`retry_on_conflict`), so the caller sees its outcome, not the database's scheduling.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from circle.errors import Conflict, DomainError, Forbidden, InvalidInput
from circle.models import Category
from circle.postcodes import postcode_district
from circle.retry import retry_on_conflict
from helpers.models import Helper, HelperKind
from matching import notify
from matching.models import (
    Feedback,
    HelperPreference,
    PreferenceKind,
    RecurrenceInterval,
    Task,
    TaskSeries,
    TaskStatus,
)
from matching.rules import local_zone
from matching.selectors import helper_ineligibility
from members.models import AuditEvent, Member, MembershipStatus
from members.selectors import Caller
from members.services import audit_record
from tokens.models import Account
from tokens.selectors import member_tokens
from tokens.services import hold_create, hold_release, hold_settle

SERVED = (MembershipStatus.ACTIVE, MembershipStatus.GRACE)


@dataclass(frozen=True)
class Outcome:
    """A task after a transition, and whether this call made it (False: a repeat)."""

    task: Task
    changed: bool


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _locked(task: Task) -> Task:
    # The row lock makes transitions of one task queue: two accepts, or an accept and a cancel,
    # run one after the other and the second sees what the first did. (SQLite has one writer
    # at a time, its transactions IMMEDIATE, which does the same.)
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("circle", "member", "category", "hold", "helper", "helper__member")
        .get(pk=task.pk)
    )


def _audit(task: Task, action: str, caller: Caller | None, reason: str = "", **data: Any) -> None:
    audit_record(
        circle=task.circle,
        action=action,
        caller=caller,
        member=task.member,
        reason=reason,
        data={"task_id": task.pk, **data},
    )


# --- Booking ----------------------------------------------------------------------------------


def _label(title: str, start: datetime) -> str:
    """How the member's statement names a task: "'Trim the hedge' on 2 Dec"."""
    local = start.astimezone(local_zone())
    return f"'{title}' on {local.day} {local:%b}"


def _paid(task: Task) -> str:
    return f"Paid for {_label(task.title, task.window_start)}"


def billed_minutes(*, minutes: int, increment: int) -> int:
    """What a task is billed: the minutes rounded up to the circle's billing increment."""
    return math.ceil(minutes / increment) * increment


def _check_booking(
    *,
    member: Member,
    category_slug: str,
    window_start: datetime,
    window_end: datetime,
    estimated_minutes: int,
    now: datetime,
) -> Category:
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise InvalidInput("invalid", "Times need a UTC offset.", field="window_start")
    if window_end <= window_start:
        raise InvalidInput(
            "window_invalid", "The window must end after it starts.", field="window_end"
        )
    if window_end <= now:
        raise InvalidInput("window_in_past", "The window has already passed.", field="window_end")
    if window_start > now + timedelta(days=settings.MATCHING_MAX_BOOK_AHEAD_DAYS):
        raise InvalidInput(
            "window_too_far",
            f"Tasks can be booked at most {settings.MATCHING_MAX_BOOK_AHEAD_DAYS} days ahead.",
            field="window_start",
        )
    if window_end - window_start > timedelta(days=settings.MATCHING_MAX_WINDOW_DAYS):
        raise InvalidInput(
            "window_too_long",
            f"A window may be at most {settings.MATCHING_MAX_WINDOW_DAYS} days long.",
            field="window_end",
        )
    cap = settings.MATCHING_MAX_ESTIMATE_MINUTES
    if isinstance(estimated_minutes, bool) or not 1 <= estimated_minutes <= cap:
        raise InvalidInput(
            "estimate_invalid",
            f"The estimate is between 1 and {cap} minutes ({cap // 60} hours).",
            field="estimated_minutes",
        )
    if timedelta(minutes=estimated_minutes) > window_end - window_start:
        raise InvalidInput(
            "estimate_exceeds_window",
            "The estimate is longer than the window it must fit in.",
            field="estimated_minutes",
        )
    category = Category.objects.filter(circle_id=member.circle_id, slug=category_slug).first()
    if category is None:
        raise InvalidInput(
            "unknown_category",
            f"{category_slug!r} is not one of this circle's kinds of help.",
            field="category",
        )
    _require_served(member)
    return category


def _require_served(member: Member) -> None:
    if member.membership_status not in SERVED:
        raise Forbidden(
            "membership_inactive",
            f"Only members whose membership is active or in grace can ask for help; this "
            f"membership is {member.membership_status}.",
        )


def _hold_minutes(*, member: Member, estimated_minutes: int) -> int:
    # The estimate rounded up to the billing increment: a task done within its estimate is
    # never billed more than was held.
    return billed_minutes(
        minutes=estimated_minutes, increment=member.circle.billing_increment_minutes
    )


def _book(
    *,
    member: Member,
    caller: Caller | None,
    category: Category,
    title: str,
    details: str,
    window_start: datetime,
    window_end: datetime,
    estimated_minutes: int,
    reference: str,
    series: TaskSeries | None,
    now: datetime,
    reason: str = "",
    call_reference: str = "",
) -> Task:
    """The booking itself, inside the caller's transaction."""
    minutes = _hold_minutes(member=member, estimated_minutes=estimated_minutes)
    if member.latitude is None or member.longitude is None or not member.postcode:
        raise Conflict("no_home_location", "The member has no home postcode to send help to.")
    available = member_tokens(member=member).available
    if available < minutes:
        raise Conflict(
            "insufficient_tokens",
            f"This needs {minutes} minutes of tokens held; {available} are available.",
        )
    # hold_create's own check (the wallet's CHECK) is the one that counts under concurrency.
    hold = hold_create(
        member=member,
        minutes=minutes,
        reference=reference,
        actor=caller.user if caller else None,
        memo=f"Held for {_label(title, window_start)}",
    )
    task = Task.objects.create(
        circle=member.circle,
        member=member,
        category=category,
        title=title,
        details=details,
        window_start=window_start,
        window_end=window_end,
        estimated_minutes=estimated_minutes,
        latitude=member.latitude,
        longitude=member.longitude,
        postcode_district=postcode_district(member.postcode),
        hold=hold,
        series=series,
        booked_by=caller.user if caller else None,
        created_at=now,
        next_offer_at=now,
    )
    audit_record(
        circle=member.circle,
        action="task.booked",
        caller=caller,
        member=member,
        reason=reason,
        call_reference=call_reference,
        data={
            "task_id": task.pk,
            "category": category.slug,
            "held_minutes": minutes,
            "series_id": series.pk if series else None,
        },
    )
    notify.on_booked(task)
    return task


@retry_on_conflict
def task_book(
    *,
    member: Member,
    caller: Caller,
    category: str,
    title: str,
    details: str = "",
    window_start: datetime,
    window_end: datetime,
    estimated_minutes: int,
    idempotency_key: str = "",
    reason: str = "",
    call_reference: str = "",
    now: datetime | None = None,
) -> Outcome:
    """Book a task for a member and hold its estimate. With an `idempotency_key` the same
    booking again answers the first task and holds nothing more."""
    now = _now(now)
    key = idempotency_key.strip()
    if len(key) > 100:
        raise InvalidInput(
            "invalid", "An idempotency key is at most 100 characters.", field="idempotency_key"
        )
    reference = f"task:{member.pk}:{key}" if key else f"task:{uuid.uuid4().hex}"
    if key:
        existing = Task.objects.filter(circle_id=member.circle_id, hold__reference=reference)
        if (first := existing.select_related("category").first()) is not None:
            same = (first.category.slug, first.title, first.window_start, first.window_end) == (
                category,
                title,
                window_start,
                window_end,
            ) and first.estimated_minutes == estimated_minutes
            if not same:
                raise Conflict(
                    "idempotency_key_reused",
                    "That idempotency key was already used for a different booking.",
                    field="idempotency_key",
                )
            return Outcome(first, False)
    found = _check_booking(
        member=member,
        category_slug=category,
        window_start=window_start,
        window_end=window_end,
        estimated_minutes=estimated_minutes,
        now=now,
    )
    try:
        with transaction.atomic(durable=True):
            task = _book(
                member=member,
                caller=caller,
                category=found,
                title=title,
                details=details,
                window_start=window_start,
                window_end=window_end,
                estimated_minutes=estimated_minutes,
                reference=reference,
                series=None,
                now=now,
                reason=reason,
                call_reference=call_reference,
            )
    except IntegrityError:
        # The same key booked at the same moment by a second request: theirs is the task.
        first = Task.objects.filter(circle_id=member.circle_id, hold__reference=reference).first()
        if key and first is not None:
            return Outcome(first, False)
        raise
    return Outcome(task, True)


# --- Accepting, completing, confirming --------------------------------------------------------


def _closed_conflict(task: Task) -> Conflict:
    if task.status == TaskStatus.CANCELLED:
        return Conflict("task_cancelled", "This task was cancelled.")
    if task.status == TaskStatus.EXPIRED:
        return Conflict("task_expired", "This task expired: its window ended with no helper.")
    return Conflict("task_settled", "This task is done and settled.")


@retry_on_conflict
def task_accept(
    *, task: Task, helper: Helper, caller: Caller, now: datetime | None = None
) -> Outcome:
    """The helper takes the task. Exactly one helper wins: the row lock queues concurrent
    accepts, the first sets the helper, and every later one finds it taken (409)."""
    now = _now(now)
    with transaction.atomic(durable=True):
        locked = _locked(task)
        if locked.helper_id == helper.pk and locked.status in (
            TaskStatus.ACCEPTED,
            TaskStatus.COMPLETED,
            TaskStatus.SETTLED,
        ):
            return Outcome(locked, False)
        if locked.status in (TaskStatus.ACCEPTED, TaskStatus.COMPLETED, TaskStatus.SETTLED):
            raise Conflict("task_taken", "Another helper has already accepted this task.")
        if locked.status != TaskStatus.OPEN:
            raise _closed_conflict(locked)
        if locked.window_end <= now:
            raise Conflict("task_expired", "This task's window has ended.")
        refusal = helper_ineligibility(task=locked, helper=helper)
        if refusal is not None:
            raise Forbidden(refusal.code, refusal.detail)
        taken = Task.objects.filter(pk=locked.pk, status=TaskStatus.OPEN).update(
            status=TaskStatus.ACCEPTED, helper=helper, accepted_at=now, next_offer_at=None
        )
        if taken != 1:  # the lock above makes this unreachable; the condition is the backstop
            raise Conflict("task_taken", "Another helper has already accepted this task.")
        if locked.series_id is not None:
            TaskSeries.objects.filter(pk=locked.series_id).update(last_helper=helper)
        locked.refresh_from_db()
        _audit(locked, "task.accepted", caller, helper_id=helper.pk)
        notify.on_accepted(locked)
    return Outcome(locked, True)


@retry_on_conflict
def task_complete(
    *, task: Task, helper: Helper, caller: Caller, minutes: int, now: datetime | None = None
) -> Outcome:
    """The helper reports the minutes the work took; the task is billed them rounded up to
    the circle's billing increment."""
    now = _now(now)
    cap = settings.MATCHING_MAX_REPORTED_MINUTES
    if isinstance(minutes, bool) or not 1 <= minutes <= cap:
        raise InvalidInput(
            "minutes_invalid", f"Report between 1 and {cap} minutes.", field="minutes"
        )
    with transaction.atomic(durable=True):
        locked = _locked(task)
        if locked.helper_id != helper.pk:
            if locked.status == TaskStatus.OPEN:
                raise Conflict("task_not_accepted", "Nobody has accepted this task yet.")
            if locked.status in (TaskStatus.CANCELLED, TaskStatus.EXPIRED):
                raise _closed_conflict(locked)
            raise Forbidden("not_your_task", "Only the task's helper can report it done.")
        if locked.status in (TaskStatus.COMPLETED, TaskStatus.SETTLED):
            if locked.minutes_reported == minutes:
                return Outcome(locked, False)
            raise Conflict(
                "already_completed",
                f"This task was already reported done in {locked.minutes_reported} minutes.",
            )
        billed = billed_minutes(minutes=minutes, increment=locked.circle.billing_increment_minutes)
        Task.objects.filter(pk=locked.pk, status=TaskStatus.ACCEPTED).update(
            status=TaskStatus.COMPLETED,
            minutes_reported=minutes,
            minutes_billed=billed,
            completed_at=now,
        )
        locked.refresh_from_db()
        _audit(locked, "task.completed", caller, minutes_reported=minutes, minutes_billed=billed)
        notify.on_completed(locked)
    return Outcome(locked, True)


@retry_on_conflict
def task_confirm(
    *,
    task: Task,
    caller: Caller,
    rating: int | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> Outcome:
    """The member (or staff) confirms the work: the ledger settles the hold. A volunteer's
    minutes go to their wallet, a paid helper's to the circle's `paid_help`; what was held and
    not used goes back to the member. Work beyond the hold is taken from the member's wallet
    only as far as it goes; the rest is recorded as unpaid (`minutes_billed -
    minutes_settled`) and the API says so. A wallet never goes negative."""
    now = _now(now)
    if rating is not None and not 1 <= rating <= 5:
        raise InvalidInput("invalid", "A rating is 1 (poor) to 5 (excellent).", field="rating")
    with transaction.atomic(durable=True):
        locked = _locked(task)
        if locked.status == TaskStatus.SETTLED:
            return Outcome(locked, False)
        if locked.status in (TaskStatus.OPEN, TaskStatus.ACCEPTED):
            raise Conflict("task_not_completed", "The helper has not reported this task done.")
        if locked.status != TaskStatus.COMPLETED:
            raise _closed_conflict(locked)
        assert locked.helper is not None
        assert locked.minutes_billed is not None
        held = locked.hold.minutes
        billed = locked.minutes_billed
        to = locked.helper.member if locked.helper.kind == HelperKind.VOLUNTEER else None
        actor = caller.user
        if billed <= held:
            hold_settle(
                hold=locked.hold, minutes_done=billed, helper=to, actor=actor, memo=_paid(locked)
            )
            settled = billed
        else:
            settled = _settle_overrun(task=locked, to=to, actor_caller=caller)
        Task.objects.filter(pk=locked.pk).update(
            status=TaskStatus.SETTLED, minutes_settled=settled, closed_at=now
        )
        if rating is not None or comment.strip():
            Feedback.objects.create(
                circle=locked.circle,
                task=locked,
                helper=locked.helper,
                rating=rating,
                comment=comment.strip(),
                given_by=caller.user,
                created_at=now,
            )
        locked.refresh_from_db()
        _audit(
            locked,
            "task.settled",
            caller,
            minutes_billed=billed,
            minutes_held=held,
            minutes_settled=settled,
            minutes_unpaid=billed - settled,
            feedback=rating is not None or bool(comment.strip()),
        )
    return Outcome(locked, True)


def _settle_overrun(*, task: Task, to: Member | None, actor_caller: Caller) -> int:
    """Settle a task billed more than was held: all the hold, and of the rest what the
    member's wallet has. The wallet is read, then the settle asks for that much; if a spend
    committed in between (the wallet's CHECK refuses), it reads again."""
    extra = (task.minutes_billed or 0) - task.hold.minutes
    for _ in range(3):
        wallet = Account.objects.filter(member=task.member).values_list("balance", flat=True)
        payable = min(extra, wallet.first() or 0)
        try:
            hold_settle(
                hold=task.hold,
                minutes_done=task.hold.minutes,
                helper=to,
                actor=actor_caller.user,
                overrun=payable,
                memo=_paid(task),
            )
        except Conflict as exc:
            if exc.code != "insufficient_tokens":
                raise
            continue
        return task.hold.minutes + payable
    raise Conflict("busy", "The member's tokens changed while settling; try again.")


# --- Cancelling and expiring ------------------------------------------------------------------


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("required", "reason: Say why.", field="reason")
    if len(reason) > 500:
        raise InvalidInput("invalid", "A reason is at most 500 characters.", field="reason")
    return reason


@retry_on_conflict
def task_cancel(*, task: Task, caller: Caller, reason: str, now: datetime | None = None) -> Outcome:
    """The member or staff call the task off: the hold goes back to the member. An accepted
    task can be cancelled too (its helper is told not to come); a completed one cannot: the
    work is done, confirm it."""
    now = _now(now)
    reason = _require_reason(reason)
    with transaction.atomic(durable=True):
        locked = _locked(task)
        if locked.status == TaskStatus.CANCELLED:
            return Outcome(locked, False)
        if locked.status in (TaskStatus.COMPLETED, TaskStatus.SETTLED):
            raise Conflict("task_completed", "The work is done: confirm it rather than cancel it.")
        if locked.status == TaskStatus.EXPIRED:
            raise _closed_conflict(locked)
        had_helper = locked.helper
        hold_release(
            hold=locked.hold,
            actor=caller.user,
            memo=f"Back from {_label(locked.title, locked.window_start)}: cancelled",
        )
        Task.objects.filter(pk=locked.pk).update(
            status=TaskStatus.CANCELLED,
            helper=None,
            cancel_reason=reason,
            closed_at=now,
            next_offer_at=None,
        )
        locked.refresh_from_db()
        _audit(
            locked,
            "task.cancelled",
            caller,
            reason,
            helper_id=had_helper.pk if had_helper else None,
        )
        if had_helper is not None:
            notify.on_cancelled(locked, helper=had_helper)
    return Outcome(locked, True)


@retry_on_conflict
def task_hand_back(
    *, task: Task, helper: Helper, caller: Caller, reason: str, now: datetime | None = None
) -> Outcome:
    """The accepted helper gives the task up: it is open again, its hold untouched, and the
    next helpers are offered it at once."""
    now = _now(now)
    reason = _require_reason(reason)
    with transaction.atomic(durable=True):
        locked = _locked(task)
        if locked.helper_id != helper.pk:
            handed_back = AuditEvent.objects.filter(
                circle_id=locked.circle_id,
                action="task.handed_back",
                data__task_id=locked.pk,
                data__helper_id=helper.pk,
            ).exists()
            if handed_back:
                return Outcome(locked, False)
            raise Forbidden("not_your_task", "Only the task's helper can hand it back.")
        if locked.status != TaskStatus.ACCEPTED:
            raise Conflict("task_completed", "The work is reported done: it cannot be handed back.")
        Task.objects.filter(pk=locked.pk, status=TaskStatus.ACCEPTED).update(
            status=TaskStatus.OPEN, helper=None, accepted_at=None, next_offer_at=now
        )
        locked.refresh_from_db()
        _audit(locked, "task.handed_back", caller, reason, helper_id=helper.pk)
        notify.on_reopened(locked, excluding=helper.pk)
    return Outcome(locked, True)


@retry_on_conflict
def task_expire(*, task: Task, now: datetime | None = None) -> Outcome:
    """An open task whose window ended with nobody: expired, its hold released."""
    now = _now(now)
    with transaction.atomic(durable=True):
        locked = _locked(task)
        if locked.status != TaskStatus.OPEN or locked.window_end > now:
            return Outcome(locked, False)
        hold_release(
            hold=locked.hold,
            actor=None,
            memo=f"Back from {_label(locked.title, locked.window_start)}: nobody was free",
        )
        Task.objects.filter(pk=locked.pk, status=TaskStatus.OPEN).update(
            status=TaskStatus.EXPIRED, closed_at=now, next_offer_at=None
        )
        locked.refresh_from_db()
        _audit(locked, "task.expired", None)
        notify.on_expired(locked)
    return Outcome(locked, True)


def tasks_expire(*, now: datetime | None = None) -> int:
    """The periodic job: expire every open task whose window has ended. Each in its own
    transaction, so one failure leaves the others done; running twice expires nothing twice."""
    now = _now(now)
    due = Task.objects.filter(status=TaskStatus.OPEN, window_end__lte=now).order_by("id")
    return sum(task_expire(task=task, now=now).changed for task in due)


# --- Recurring tasks --------------------------------------------------------------------------


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


# --- Preferences ------------------------------------------------------------------------------


def preference_set(
    *, member: Member, helper: Helper, kind: str, caller: Caller
) -> tuple[HelperPreference, bool]:
    """A member names a preferred helper (offered first; one at a time, so naming another
    moves the word) or blocks one (never offered, cannot accept)."""
    if kind not in PreferenceKind.values:
        raise InvalidInput("invalid_choice", "kind is preferred or blocked.", field="kind")
    if helper.circle_id != member.circle_id:
        raise InvalidInput("helper_not_found", "No such helper in this circle.", field="helper_id")
    if helper.member_id == member.pk:
        raise InvalidInput("own_helper_profile", "This is the member's own helper profile.")
    with transaction.atomic(durable=True):
        current = (
            HelperPreference.objects.select_for_update().filter(member=member, helper=helper)
        ).first()
        if current is not None and current.kind == kind:
            return current, False
        if kind == PreferenceKind.PREFERRED:
            HelperPreference.objects.filter(member=member, kind=PreferenceKind.PREFERRED).exclude(
                helper=helper
            ).delete()
        if current is not None:
            HelperPreference.objects.filter(pk=current.pk).update(kind=kind)
            current.kind = kind
        else:
            current = HelperPreference.objects.create(
                circle=member.circle, member=member, helper=helper, kind=kind
            )
        audit_record(
            circle=member.circle,
            action=f"helper.{kind}",
            caller=caller,
            member=member,
            data={"helper_id": helper.pk, "kind": kind},
        )
    return current, True


def preference_remove(*, member: Member, helper: Helper, caller: Caller) -> bool:
    with transaction.atomic(durable=True):
        deleted, _ = HelperPreference.objects.filter(member=member, helper=helper).delete()
        if deleted:
            audit_record(
                circle=member.circle,
                action="helper.preference_removed",
                caller=caller,
                member=member,
                data={"helper_id": helper.pk},
            )
    return bool(deleted)
