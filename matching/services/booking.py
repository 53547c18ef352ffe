"""Booking a task: the checks, the hold on the member's tokens, and the first offers."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from circle.errors import Conflict, Forbidden, InvalidInput
from circle.models import Category
from circle.postcodes import postcode_district
from circle.retry import retry_on_conflict
from matching import notify
from matching.models import (
    Task,
    TaskSeries,
)
from matching.rules import local_zone
from matching.services.common import SERVED, Outcome, _now
from members.models import Member
from members.selectors import Caller
from members.services import audit_record
from tokens.memos import HOLD_MEMO, task_ref
from tokens.selectors import member_available
from tokens.services import hold_create


def _label(title: str, start: datetime) -> str:
    """How the member's statement names a task: "'Trim the hedge' on 2 Dec"."""
    local = start.astimezone(local_zone())
    return f"'{title}' on {local.day} {local:%b}"


def _paid(task: Task) -> str:
    # By the task's id only: the words live in the task, which erasure can redact, while
    # ledger rows never change (tokens.memos shows the title, read through the task).
    return f"Paid for {task_ref(task.pk)}"


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
    # The wallet's CHECK, applied by the hold's posting, is what refuses a hold beyond the
    # balance (under concurrency too); the balance is read only then, for the message, not
    # before every booking. The refused posting is undone to its own savepoint, so the
    # transaction can still read.
    try:
        hold = hold_create(
            member=member,
            minutes=minutes,
            reference=reference,
            actor=caller.user if caller else None,
            # The task is not written yet: the hold names it, and tokens.memos finds it by the
            # hold (the words stay in the task; see _paid).
            memo=HOLD_MEMO,
        )
    except Conflict as refused:
        if refused.code != "insufficient_tokens":
            raise
        available = member_available(member=member)
        raise Conflict(
            "insufficient_tokens",
            f"This needs {minutes} minutes of tokens held; {available} are available.",
        ) from None
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


def _booked_with(*, member: Member, reference: str) -> QuerySet[Task]:
    """The task whose hold has this reference. The hold's own circle is named too: the unique
    index on holds is (circle, reference), and without it PostgreSQL reads every hold."""
    return Task.objects.filter(
        circle_id=member.circle_id, hold__circle_id=member.circle_id, hold__reference=reference
    )


def _booked_task(task_id: int) -> Task:
    """A task booked before, with what the answer shows of it. Read only for a repeat: every
    booking looks for its key first, and a join the planner must order costs more to plan than
    the lookup costs to run."""
    return Task.objects.select_related("circle", "member", "category", "hold").get(pk=task_id)


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
    # The key is the acting person's own (staff booking for a member, or the member): one
    # person's "k1" never hands them a task another person booked under theirs.
    actor = caller.user.pk if caller.user is not None else ""
    reference = f"task:{member.pk}:u{actor}:{key}" if key else f"task:{uuid.uuid4().hex}"
    if key:
        existing = _booked_with(member=member, reference=reference)
        if (earlier := existing.values_list("pk", flat=True).first()) is not None:
            first = _booked_task(earlier)
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
        theirs = _booked_with(member=member, reference=reference).values_list("pk", flat=True)
        if key and (again := theirs.first()) is not None:
            return Outcome(_booked_task(again), False)
        raise
    return Outcome(task, True)
