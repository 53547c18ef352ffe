"""Matching's part of erasing a member (members/erasure.py), and the reader that shows a task's
title where a ledger memo names the task (tokens.memos).

A task stays (its ledger rows, its helper's history and the circle's reports need it), but
the member's words in it go: its title becomes "Request <id>", its details are wiped, and the
place it was booked for keeps only its postcode district and a point rounded to about a
kilometre (two decimal places), enough for the reports and no longer their front door.
Refused while a task of theirs, as the member or as the helper, is still under way."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from circle.errors import Conflict, DomainError
from circle.sql import aware
from matching.models import Feedback, Task, TaskSeries, TaskStatus
from matching.services.booking import _label
from members.erasure import Erasure
from members.models import Member
from tokens.memos import task_memos_describe
from tokens.models import Hold

# Still in play: the member is waiting for help, or a helper has it or has done it unconfirmed.
_UNDER_WAY = (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.COMPLETED)
_KM = Decimal("0.01")


def erase_refusal(member: Member) -> DomainError | None:
    task = (
        Task.objects.filter(status__in=_UNDER_WAY)
        .filter(Q(member=member) | Q(helper__member=member))
        .order_by("window_start")
        .first()
    )
    if task is None:
        return None
    as_what = "asked for" if task.member_id == member.pk else "is helping with"
    return Conflict(
        "task_open",
        f"{member.first_name} {as_what} request {task.pk}, which is not finished yet; "
        "cancel it or see it through first.",
    )


def erase_words(erasure: Erasure) -> None:
    member = erasure.member
    erasure.add_words(
        word
        for row in Task.objects.filter(member=member).values_list("title", "details")
        for word in row
    )
    erasure.add_words(
        word
        for row in TaskSeries.objects.filter(member=member).values_list("title", "details")
        for word in row
    )
    erasure.add_words(
        Feedback.objects.filter(task__member=member)
        .exclude(comment="")
        .values_list("comment", flat=True)
    )


def erase_part(erasure: Erasure) -> None:
    member = erasure.member
    tasks = 0
    for task in Task.objects.filter(member=member):
        Task.objects.filter(pk=task.pk).update(
            title=f"Request {task.pk}",
            details="",
            cancel_reason=erasure.redact(task.cancel_reason, own=True),
            latitude=task.latitude.quantize(_KM),
            longitude=task.longitude.quantize(_KM),
        )
        tasks += 1
    # Other tasks that quote the member (helped by them, or naming them).
    for task in (
        Task.objects.filter(circle_id=member.circle_id)
        .exclude(member=member)
        .filter(Q(helper__member=member) | erasure.quoting("title", "details", "cancel_reason"))
    ):
        Task.objects.filter(pk=task.pk).update(
            title=erasure.redact(task.title)[:120],
            details=erasure.redact(task.details),
            cancel_reason=erasure.redact(task.cancel_reason, own=True),
        )
        tasks += 1
    erasure.count("tasks", tasks)
    # A series books new requests ahead: it ends here, so nothing is booked for them again.
    series = TaskSeries.objects.filter(member=member).update(
        title="Erased", details="", active=False
    )
    TaskSeries.objects.filter(member=member, ended_at__isnull=True).update(ended_at=timezone.now())
    erasure.count("series", series)
    # Their words about their helpers go; the rating stays (the helper's record needs it).
    feedback = Feedback.objects.filter(task__member=member).exclude(comment="").update(comment="")
    for row in Feedback.objects.filter(circle_id=member.circle_id).filter(
        erasure.quoting("comment")
    ):
        Feedback.objects.filter(pk=row.pk).update(comment=erasure.redact(row.comment))
        feedback += 1
    erasure.count("feedback", feedback)


def retention_activity(since: datetime) -> list[int]:
    """Members who asked for help, or helped, since `since` (retention keeps them)."""
    recent = Task.objects.filter(
        Q(created_at__gte=since) | Q(accepted_at__gte=since) | Q(closed_at__gte=since)
    )
    asked = recent.values_list("member_id", flat=True)
    helped = recent.exclude(helper=None).values_list("helper__member_id", flat=True)
    return [*asked.distinct(), *helped.distinct()]


def memos_describe(rows: list[tuple[int, str]]) -> dict[int, str]:
    """tokens.memos' describer for the memos matching writes."""
    return task_memos_describe(rows, task_labels)


_TASK = Task._meta.db_table
_HOLD = Hold._meta.db_table


def task_labels(
    task_ids: set[int], hold_transaction_ids: set[int]
) -> tuple[dict[int, str], dict[int, int]]:
    """For tokens.memos: each task's label ("'Trim the hedge' on 2 Dec") by id, and the task
    of each hold transaction, in one plain statement (a ledger page shows one on most pages,
    and the ORM took longer to write it than the database to answer it)."""
    parts: list[str] = []
    params: list[int] = []
    if task_ids:
        parts.append(
            f"SELECT t.id, t.title, t.window_start, NULL FROM {_TASK} t "  # noqa: S608
            f"WHERE t.id IN ({', '.join(['%s'] * len(task_ids))})"
        )
        params.extend(task_ids)
    if hold_transaction_ids:
        parts.append(
            f"SELECT t.id, t.title, t.window_start, h.hold_transaction_id "  # noqa: S608
            f"FROM {_HOLD} h JOIN {_TASK} t ON t.hold_id = h.id "
            f"WHERE h.hold_transaction_id IN ({', '.join(['%s'] * len(hold_transaction_ids))})"
        )
        params.extend(hold_transaction_ids)
    labels: dict[int, str] = {}
    task_of: dict[int, int] = {}
    if not parts:
        return labels, task_of
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for pk, title, start, hold_tx in cursor.fetchall():
            labels[pk] = _label(title, aware(start))
            if hold_tx is not None:
                task_of[hold_tx] = pk
    return labels, task_of
