"""The periodic look over tasks for what needs a coordinator: a request about to start with
nobody to do it, and work reported done that nobody confirmed. Each task goes on the queue
once per kind (the task is the cause), whichever run of the job noticed it first; the item
closes by itself when its cause goes (lifecycle.py: accepted, cancelled, expired, confirmed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max

from attention.models import Item, ItemKind
from attention.services import item_raise, items_close
from circle import words
from circle.models import Circle
from matching.models import Task, TaskStatus
from matching.services.common import _now

# Work reported done this long ago and still not confirmed needs someone to ring the member.
UNCONFIRMED_AFTER = timedelta(days=3)


def task_cause(task_id: int) -> str:
    """How an attention item names the task that raised it."""
    return f"task:{task_id}"


def handed_back_cause(task_id: int, times: int) -> str:
    """The cause of the no-helper item a hand-back raises: the task's first item (if it had
    one) was closed when the task was accepted, and each hand-back is a cause of its own."""
    return f"task:{task_id}:handed-back:{times}"


def task_handed_back_raise(*, task: Task, times: int, reason: str, now: datetime) -> None:
    """A helper gave the task up inside its circle's warning: nobody will do it unless a
    coordinator finds someone, so it goes on the queue now, not at the job's next run. In
    the hand-back's transaction."""
    hours = max(0, round((task.window_start - now).total_seconds() / 3600))
    item_raise(
        member=task.member,
        kind=ItemKind.TASK_NO_HELPER,
        cause=handed_back_cause(task.pk, times),
        task_id=task.pk,
        note=(
            f"The helper handed back “{task.title}” "
            f"({words.window(task.window_start, task.window_end)}), which starts in about "
            f"{hours} hours: “{reason}”. It is offered again; find a helper, or ring the member."
        ),
        audit_data={"task_id": task.pk},
    )


def tasks_without_helper_raise(*, now: datetime | None = None) -> int:
    """Open tasks whose window starts within their circle's `no_helper_warning_hours` (and
    has not started) with no helper yet: each on the coordinators' queue, once. How many
    were raised."""
    now = _now(now)
    # The widest warning of any circle bounds the read; each circle's own is applied below
    # (portable, and the few tasks starting within a day or two are a short list).
    widest = Circle.objects.aggregate(hours=Max("no_helper_warning_hours"))["hours"] or 0
    soon = (
        Task.objects.filter(
            status=TaskStatus.OPEN,
            helper__isnull=True,
            window_start__gt=now,
            window_start__lte=now + timedelta(hours=widest),
        )
        .select_related("member", "member__circle")
        .order_by("id")
    )
    soon_list = list(soon)
    # A task handed back inside its warning is raised by the hand-back, under a cause of its
    # own (`handed_back_cause`): one open item a task, whichever raised it.
    waiting = set(
        Item.objects.filter(
            kind=ItemKind.TASK_NO_HELPER,
            done_at__isnull=True,
            task_id__in=[task.pk for task in soon_list],
        ).values_list("task_id", flat=True)
    )
    raised = 0
    for task in soon_list:
        if task.pk in waiting:
            continue
        if task.window_start > now + timedelta(hours=task.member.circle.no_helper_warning_hours):
            continue
        hours = round((task.window_start - now).total_seconds() / 3600)
        with transaction.atomic(durable=True):
            item = item_raise(
                member=task.member,
                kind=ItemKind.TASK_NO_HELPER,
                cause=task_cause(task.pk),
                task_id=task.pk,
                note=(
                    f"Nobody has taken “{task.title}” "
                    f"({words.window(task.window_start, task.window_end)}), which starts in "
                    f"about {hours} hours. Find a helper, or ring the member."
                ),
                audit_data={"task_id": task.pk},
            )
        raised += item is not None
    return raised


def tasks_unconfirmed_raise(*, now: datetime | None = None) -> int:
    """Tasks reported done more than UNCONFIRMED_AFTER ago that the member has not confirmed
    (the helper is not paid until they do): each on the coordinators' queue, once. How many
    were raised."""
    now = _now(now)
    due = (
        Task.objects.filter(status=TaskStatus.COMPLETED, completed_at__lte=now - UNCONFIRMED_AFTER)
        .select_related("member", "member__circle")
        .order_by("id")
    )
    raised = 0
    for task in due:
        assert task.completed_at is not None
        with transaction.atomic(durable=True):
            item = item_raise(
                member=task.member,
                kind=ItemKind.TASK_UNCONFIRMED,
                cause=task_cause(task.pk),
                task_id=task.pk,
                note=(
                    f"“{task.title}” was reported done on {task.completed_at:%d %B} and the "
                    "member has not confirmed it; the helper waits to be credited. Ring the "
                    "member to confirm it with them."
                ),
                audit_data={"task_id": task.pk},
            )
        raised += item is not None
    return raised


def no_helper_item_possible(*, task: Task, now: datetime) -> bool:
    """Whether the task can have a no-helper item: only once its window came within its
    circle's warning (the job raises none before), so a transition of a task further off
    needs no statement to look for one."""
    warning = timedelta(hours=task.circle.no_helper_warning_hours)
    return task.window_start - warning <= now


def task_items_close(*, task: Task, kinds: list[str], why: str) -> None:
    """The task moved on, so its open items of `kinds` need nobody: closed, in the caller's
    transaction (the transition's)."""
    items_close(member=task.member, kinds=kinds, note=why, task_id=task.pk)


def task_items_tidy(*, task_id: int) -> int:
    """Close the task's items that no longer say anything true: its no-helper item once it is
    not open (accepted, cancelled, expired), its unconfirmed item once it is not waiting for
    the member. Run after an accept commits, and over every open item by the periodic job (a
    backstop for a queueing that failed). How many were closed."""
    task = Task.objects.select_related("member", "member__circle").filter(pk=task_id).first()
    if task is None:
        return 0
    closed = 0
    why = f"Closed by itself: the request is now “{task.get_status_display()}”."
    with transaction.atomic(durable=True):
        if task.status != TaskStatus.OPEN:
            closed += items_close(
                member=task.member, kinds=[ItemKind.TASK_NO_HELPER], note=why, task_id=task.pk
            )
        if task.status != TaskStatus.COMPLETED:
            closed += items_close(
                member=task.member, kinds=[ItemKind.TASK_UNCONFIRMED], note=why, task_id=task.pk
            )
    return closed


def task_items_tidy_all() -> int:
    """The backstop: every open task item whose task has moved on, closed."""
    open_items = Item.objects.filter(
        kind__in=[ItemKind.TASK_NO_HELPER, ItemKind.TASK_UNCONFIRMED],
        done_at__isnull=True,
        task_id__isnull=False,
    ).values_list("task_id", "kind")
    # The status each kind waits on: anything else means its cause has gone.
    wanted: dict[str, str] = {
        ItemKind.TASK_NO_HELPER: TaskStatus.OPEN,
        ItemKind.TASK_UNCONFIRMED: TaskStatus.COMPLETED,
    }
    pairs = list(open_items)
    status = dict(
        Task.objects.filter(pk__in=[task_id for task_id, _kind in pairs]).values_list(
            "pk", "status"
        )
    )
    moved = sorted(
        {task_id for task_id, kind in pairs if task_id and status.get(task_id) != wanted[kind]}
    )
    return sum(task_items_tidy(task_id=pk) for pk in moved)
