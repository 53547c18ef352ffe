"""History for the reports' tests: tasks taken through their real life (booked, accepted,
completed, confirmed) at chosen times, through the services, which take `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

from helpers.models import Helper
from matching.models import Task
from matching.services import task_accept, task_book, task_complete, task_confirm
from members.models import Member
from members.selectors import caller_for


def task_lived(
    *,
    member: Member,
    helper: Helper,
    asked: datetime,
    wait: timedelta | None = None,
    minutes: int | None = None,
    category: str = "gardening",
    estimate: int = 120,
) -> Task:
    """A task booked at `asked` for two days later; accepted `wait` after it was asked (None:
    never); done in `minutes` and confirmed straight after (None: not done)."""
    caller = caller_for(user=member.user, circle=member.circle)
    start = asked + timedelta(days=2)
    task = task_book(
        member=member,
        caller=caller,
        category=category,
        title="Help",
        window_start=start,
        window_end=start + timedelta(hours=3),
        estimated_minutes=estimate,
        now=asked,
    ).task
    if wait is None:
        return task
    helper_caller = caller_for(user=helper.member.user, circle=member.circle)
    task_accept(task=task, helper=helper, caller=helper_caller, now=asked + wait)
    if minutes is None:
        return task
    done = start + timedelta(hours=3)
    task_complete(task=task, helper=helper, caller=helper_caller, minutes=minutes, now=done)
    task_confirm(task=task, caller=caller, now=done + timedelta(minutes=5))
    task.refresh_from_db()
    return task
