"""Who may see or act on a task, scoped to the caller's circles (see members/selectors.py).

A task in a circle where the caller has no member record is "not found" (404). In its own
circle the caller stands to it as its member, its helper (while the task is theirs), staff, or
another helper of the circle while the task is in their feed (open, and one they may take), or
if they were offered it or once had it (they see what the feed shows: the postcode district
and the distance, never the address); a helper who is unvetted or suspended reads none of
these; anyone else there is forbidden (403).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from circle.errors import Forbidden, NotFound
from circle.models import Circle, VettingLevel
from circle.selectors import circle_by_id
from circle.sql import names_a_row
from helpers.models import Helper
from matching.models import FINAL, Feedback, Notice, NoticeKind, Task, TaskSeries, TaskStatus
from matching.selectors import helper_ineligibility
from members.models import AuditEvent, Member, TrustedPerson, User
from members.selectors import (
    Caller,
    caller_for,
    trusted_caller,
    trusted_link_for,
    trusted_scope_refuse,
)


class TaskRole(enum.Enum):
    """How the caller stands with one task, which decides what they may see and do with it."""

    MEMBER = "member"
    STAFF = "staff"
    HELPER = "helper"  # the task's helper, while it is theirs
    OTHER_HELPER = "other_helper"  # a helper of the circle who does not have it
    # A trusted person of the task's member (members.models.TrustedPerson), within the scopes
    # the member gave: they read it with "ask" or "confirm", cancel it with "ask", confirm it
    # with "confirm" (the views check which).
    TRUSTED = "trusted"


@dataclass(frozen=True)
class TaskAccess:
    task: Task
    caller: Caller
    role: TaskRole
    # The caller's helper profile in the task's circle, if they have one.
    helper: Helper | None

    @property
    def sees_address(self) -> bool:
        """The member's address and phone: for the member, staff, and the helper only while
        the task is theirs and not yet settled."""
        if self.role in (TaskRole.MEMBER, TaskRole.STAFF, TaskRole.TRUSTED):
            return True
        return self.role is TaskRole.HELPER and self.task.status in (
            TaskStatus.ACCEPTED,
            TaskStatus.COMPLETED,
        )


def _user(user: Any) -> User:
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotFound("No such task.", code="task_not_found")
    return user


# A task by id, with whether the caller is a trusted person of its member (`trusted`), as a
# RawQuerySet: the same row and instance as the ORM's queryset, without building the statement
# (every lifecycle action reads it). Its circle is read by id after.
_TASK_SQL = (
    "SELECT t.*, EXISTS (SELECT 1 FROM members_trustedperson p WHERE p.user_id = %s"
    " AND p.member_id = t.member_id AND p.ended_at IS NULL) AS trusted"
    " FROM matching_task t WHERE t.id = %s"
)
_HELPER_SQL = "SELECT * FROM helpers_helper WHERE member_id = %s"


def _task_row(account: User, task_id: int, related: bool) -> tuple[Task, bool] | None:
    """The task, and whether the caller is a trusted person of its member."""
    if not names_a_row(task_id):
        return None
    found: Task | None
    if related:
        trusting = TrustedPerson.objects.filter(
            user=account, ended_at__isnull=True, member_id=OuterRef("member_id")
        )
        found = (
            Task.objects.select_related(
                "circle", "member", "member__user", "category", "hold", "helper", "helper__member"
            )
            .filter(pk=task_id)
            .annotate(trusted=Exists(trusting))
            .first()
        )
    else:
        found = next(iter(Task.objects.raw(_TASK_SQL, [account.pk, task_id])), None)
        if found is not None:
            found.circle = circle_by_id(found.circle_id)
    if found is None:
        return None
    return found, bool(getattr(found, "trusted", False))  # SQLite's EXISTS is 0 or 1


def caller_helper(caller: Caller) -> Helper | None:
    """The caller's helper profile in the circle they are seen from, if they have one: none is
    read when their record says they have none (`helper_pk`, members.selectors)."""
    member = caller.member
    if member is None or getattr(member, "helper_pk", True) is None:
        return None
    helper = next(iter(Helper.objects.raw(_HELPER_SQL, [member.pk])), None)
    if helper is not None:
        helper.member = member
    return helper


def task_access(
    *, user: Any, task_id: int, reading: bool = False, related: bool = True
) -> TaskAccess:
    """The task and how the caller stands to it. `reading`: for showing the task, where other
    helpers see only tasks they may take or once had; acting on it (accepting) any helper of
    the circle may try, and the service says why not (taken, cancelled, expired, ineligible).

    `related=False` reads the task's own row and its circle, not its member, category, hold
    and helper: for a view that hands the task to a service which locks it and reads those
    with the lock anyway, and answers with what the service returns (`access_after`). The
    seven-way join costs PostgreSQL more to plan (3.5 ms) than to run; without it, 0.2 ms.

    The task is read by id, then the caller as seen from its circle: a task of a circle where
    they have no record, and whose member they do not act for, is not found."""
    account = _user(user)
    found = _task_row(account, task_id, related)
    if found is None:
        raise NotFound("No such task.", code="task_not_found")
    task, trusted = found
    caller = caller_for(user=account, circle=task.circle)
    if caller.member is None and not trusted:
        raise NotFound("No such task.", code="task_not_found")
    own = caller.member is not None and task.member_id == caller.member.pk
    if trusted and not own and not caller.is_staff:
        link = trusted_link_for(user=account, member_id=task.member_id)
        if link is not None:
            caller = trusted_caller(user=account, link=link)
            trusted_scope_refuse(caller=caller, scope=("ask", "confirm"))
            return TaskAccess(task=task, caller=caller, role=TaskRole.TRUSTED, helper=None)
    helper = caller_helper(caller)
    return TaskAccess(
        task=task, caller=caller, role=_role(task, caller, helper, reading), helper=helper
    )


def _role(task: Task, caller: Caller, helper: Helper | None, reading: bool) -> TaskRole:
    if caller.trusted_for is not None and task.member_id == caller.trusted_for.pk:
        return TaskRole.TRUSTED
    if caller.member is not None and task.member_id == caller.member.pk:
        return TaskRole.MEMBER
    if caller.is_staff:
        return TaskRole.STAFF
    if helper is not None and task.helper_id == helper.pk:
        return TaskRole.HELPER
    if helper is not None and (not reading or _may_look(task, helper)):
        return TaskRole.OTHER_HELPER
    raise Forbidden("forbidden", "Only the task's member, its helper and staff can see it.")


def access_booked(*, caller: Caller, task: Task) -> TaskAccess:
    """How the caller who has just booked `task` (for themselves, or as staff for a member of
    their circle) stands to it, for the answer: the task is the one booking returned, with
    its circle, member, category and hold, so only the caller's helper profile is read (a
    member who also helps is shown their distance, as reading the task shows it)."""
    helper = caller_helper(caller)
    return TaskAccess(
        task=task, caller=caller, role=_role(task, caller, helper, False), helper=helper
    )


def access_after(view: TaskAccess, task: Task) -> TaskAccess:
    """The same viewer, looking at the task as a service left it (`task`, read under the
    service's lock with its related rows): their role is decided again (a helper who has just
    accepted is now its helper), without reading the task, the caller or their helper
    profile again, none of which the service changed."""
    return TaskAccess(
        task=task,
        caller=view.caller,
        role=_role(task, view.caller, view.helper, False),
        helper=view.helper,
    )


def _may_look(task: Task, helper: Helper) -> bool:
    """Another helper of the circle sees a task while it is in their feed (the feed's own
    eligibility, so reading by id shows no more than the feed does), or one they were offered
    or once had; not other people's work in hand, nor open tasks they could never take (a
    member who blocked them, a category above their vetting). An unvetted or suspended helper
    is shown no task at all: their feed is empty, and an id is no way round it."""
    if helper.suspended or helper.vetting_level == VettingLevel.NONE:
        return False
    if (
        task.status == TaskStatus.OPEN
        and task.window_end > timezone.now()
        and helper_ineligibility(task=task, helper=helper) is None
    ):
        return True
    offered = Notice.objects.filter(
        task=task, recipient_id=helper.member_id, kind=NoticeKind.TASK_OFFERED
    )
    if offered.exists():
        return True
    return AuditEvent.objects.filter(
        circle_id=task.circle_id,
        member_id=task.member_id,
        action__in=("task.accepted", "task.handed_back"),
        data__task_id=task.pk,
        data__helper_id=helper.pk,
    ).exists()


def require(
    access: TaskAccess, *allowed: TaskRole, what: str, trusted_scope: str | None = None
) -> None:
    """Refuse (403) a caller whose role is not `allowed`; a trusted person is allowed only
    with `trusted_scope` given by the member (and never without one)."""
    if access.role is TaskRole.TRUSTED:
        trusted_scope_refuse(caller=access.caller, scope=trusted_scope)
        return
    if access.role not in allowed:
        raise Forbidden("forbidden", f"You may not {what}.")


# --- Scoped reads for the API ---------------------------------------------------------------


def member_task_list(*, member: Member, status: str | None = None) -> QuerySet[Task]:
    tasks = Task.objects.filter(member=member).select_related(
        "circle", "member", "category", "hold", "helper", "helper__member"
    )
    if status:
        tasks = tasks.filter(status=status)
    return tasks.order_by("-window_start", "-id")


def member_tasks_in_progress(*, member: Member) -> QuerySet[Task]:
    """The member's tasks still under way (not settled, cancelled or expired), soonest first,
    with what a page shows of each: its helper's first name."""
    return (
        Task.objects.filter(member=member)
        .exclude(status__in=FINAL)
        .select_related("helper__member")
        .order_by("window_start", "id")
    )


def helper_task_list(*, helpers: list[Helper]) -> QuerySet[Task]:
    """What these helper profiles have in hand: accepted, or done and not yet confirmed."""
    return (
        Task.objects.filter(
            helper__in=helpers, status__in=(TaskStatus.ACCEPTED, TaskStatus.COMPLETED)
        )
        .select_related("circle", "member", "category", "hold", "helper", "helper__member")
        .order_by("window_start", "id")
    )


def helper_finished_tasks(*, helper: Helper, limit: int) -> list[Task]:
    """The helper's settled tasks, most recent first, at most `limit`, with the member and
    category a helper's page names (one query, however many there are)."""
    return list(
        Task.objects.filter(helper=helper, status=TaskStatus.SETTLED)
        .select_related("circle", "member", "category")
        .order_by("-window_start", "-id")[:limit]
    )


def member_series(*, member: Member) -> QuerySet[TaskSeries]:
    return TaskSeries.objects.filter(member=member).select_related("category").order_by("-id")


def series_access(*, user: Any, series_id: int) -> tuple[TaskSeries, Caller]:
    """A series for its member or their circle's staff; another circle's is not found."""
    account = _user(user)
    series = (
        TaskSeries.objects.select_related("circle", "member", "category")
        .filter(pk=series_id, circle_id__in=Member.objects.filter(user=account).values("circle_id"))
        .first()
    )
    if series is None:
        raise NotFound("No such series.", code="series_not_found")
    caller = caller_for(user=account, circle=series.circle)
    if series.member.user_id != account.pk and not caller.is_staff:
        raise Forbidden("forbidden", "Only the member and staff can change this series.")
    return series, caller


def feedback_list(*, circle: Circle, helper_id: int | None = None) -> QuerySet[Feedback]:
    rows = Feedback.objects.filter(circle=circle).select_related("task", "helper__member")
    if helper_id is not None:
        rows = rows.filter(helper_id=helper_id)
    return rows.order_by("-created_at", "-id")


def member_task_get(*, member: Member, task_id: int) -> Task:
    """One of this member's tasks, for staff acting for them (the console): another member's,
    or another circle's, is not found. With what the console's pages show of it."""
    task = (
        Task.objects.select_related(
            "circle", "member", "category", "hold", "helper", "helper__member", "series"
        )
        .filter(pk=task_id, member=member, circle_id=member.circle_id)
        .first()
    )
    if task is None:
        raise NotFound("No such task.", code="task_not_found")
    return task
