"""What every task transition shares: its outcome, the task's row lock and its audit row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from helpers.models import Helper
from matching.models import (
    Task,
)
from members.models import MembershipStatus
from members.selectors import Caller
from members.services import audit_record

SERVED = (MembershipStatus.ACTIVE, MembershipStatus.GRACE)


@dataclass(frozen=True)
class Outcome:
    """A task after a transition, and whether this call made it (False: a repeat)."""

    task: Task
    changed: bool


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _locked(task: Task, *, helper: Helper | None = None) -> Task:
    """The task's row, locked, with the rows its answer and its rules read.

    Not joined again what the caller holds already: the circle, when `task` was read with it
    (a circle is not the task's to change, and the lock is on the task alone either way), and,
    given the acting `helper` (read with their member), the task's helper when it is them.
    The join is what PostgreSQL spends its time on for this statement: planning seven tables
    costs it about 0.7 ms, four about 0.2 ms, and running either a few hundredths."""
    # The row lock makes transitions of one task queue: two accepts, or an accept and a cancel,
    # run one after the other and the second sees what the first did. (SQLite has one writer
    # at a time, its transactions IMMEDIATE, which does the same.)
    related = ["member", "category", "hold"]
    circle_known = Task.circle.is_cached(task)
    if not circle_known:
        related.append("circle")
    if helper is None:
        related += ["helper", "helper__member"]
    locked = Task.objects.select_for_update(of=("self",)).select_related(*related).get(pk=task.pk)
    if circle_known:
        locked.circle = task.circle
    if helper is not None and locked.helper_id == helper.pk:
        locked.helper = helper  # otherwise read if asked for (another helper's: a refusal)
    return locked


def _update(task: Task, *, where: dict[str, Any] | None = None, **changes: Any) -> int:
    """Write `changes` to the locked task's row (only while it matches `where`), and to `task`
    itself: under the lock the row is what was read plus these changes, so the task is not
    read again. (`refresh_from_db` would also drop the circle, member, hold and helper read
    with the lock, and each would be read again, one query apiece, by the audit row and the
    answer.)"""
    done = Task.objects.filter(pk=task.pk, **(where or {})).update(**changes)
    if done:
        for name, value in changes.items():
            setattr(task, name, value)
    return done


def _audit(
    task: Task,
    action: str,
    caller: Caller | None,
    reason: str = "",
    *,
    call_reference: str = "",
    **data: Any,
) -> None:
    audit_record(
        circle=task.circle,
        action=action,
        caller=caller,
        member=task.member,
        reason=reason,
        call_reference=call_reference.strip(),
        data={"task_id": task.pk, **data},
    )
