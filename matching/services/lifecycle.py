"""A booked task's life: accepted, completed, confirmed and settled; or cancelled, handed back
or expired, releasing its hold."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction

from attention.models import ItemKind
from attention.services import item_raise
from circle import words
from circle.errors import Conflict, Forbidden, InvalidInput
from circle.queueing import enqueue_after_commit
from circle.retry import retry_on_conflict
from helpers.models import Helper, HelperKind
from matching import notify
from matching.models import (
    Feedback,
    Task,
    TaskSeries,
    TaskStatus,
)
from matching.selectors import helper_ineligibility
from matching.services.booking import _paid, billed_minutes
from matching.services.common import Outcome, _audit, _locked, _now, _update
from matching.services.watch import (
    no_helper_item_possible,
    task_handed_back_raise,
    task_items_close,
)
from members.models import AuditEvent, Member
from members.selectors import Caller
from tokens.memos import task_ref
from tokens.models import Account
from tokens.services import hold_release, hold_settle

# A rating this low or lower puts the helper on the coordinators' queue.
LOW_RATING = 2


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
        locked = _locked(task, helper=helper)
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
        taken = _update(
            locked,
            where={"status": TaskStatus.OPEN},
            status=TaskStatus.ACCEPTED,
            helper=helper,
            accepted_at=now,
            next_offer_at=None,
        )
        if taken != 1:  # the lock above makes this unreachable; the condition is the backstop
            raise Conflict("task_taken", "Another helper has already accepted this task.")
        if locked.series_id is not None:
            TaskSeries.objects.filter(pk=locked.series_id).update(last_helper=helper)
        _audit(locked, "task.accepted", caller, helper_id=helper.pk)
        if no_helper_item_possible(task=locked, now=now):
            # After the commit, off the accept's path (its statements are counted): the
            # no-helper item, if one was raised, needs nobody now.
            from matching import tasks  # the Celery tasks import this module

            enqueue_after_commit(tasks.task_items_tidy, locked.pk)
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
        _update(
            locked,
            where={"status": TaskStatus.ACCEPTED},
            status=TaskStatus.COMPLETED,
            minutes_reported=minutes,
            minutes_billed=billed,
            completed_at=now,
        )
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
    call_reference: str = "",
    now: datetime | None = None,
) -> Outcome:
    """The member (or staff, with the `call_reference` of the member's call, which the audit
    row keeps) confirms the work: the ledger settles the hold. A volunteer's
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
        if (
            caller.user is not None
            and locked.member.user_id != caller.user.pk
            and locked.helper.member.user_id == caller.user.pk
        ):
            # Staff who also help: confirming their own work would pay themselves.
            raise Forbidden(
                "own_record",
                "Staff never confirm a task they did themselves; the member or other staff do.",
            )
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
        _update(locked, status=TaskStatus.SETTLED, minutes_settled=settled, closed_at=now)
        if rating is not None or comment.strip():
            feedback = Feedback.objects.create(
                circle=locked.circle,
                task=locked,
                helper=locked.helper,
                rating=rating,
                comment=comment.strip(),
                given_by=caller.user,
                created_at=now,
            )
            if rating is not None and rating <= LOW_RATING:
                # A poor rating is a coordinator's to look into, with the helper.
                item_raise(
                    member=locked.helper.member,
                    kind=ItemKind.LOW_RATING,
                    cause=f"feedback:{feedback.pk}",
                    task_id=locked.pk,
                    note=(
                        f"{locked.member.full_name} rated “{locked.title}” {rating} out of 5"
                        + (f": “{comment.strip()[:300]}”" if comment.strip() else ".")
                    ),
                    audit_data={"task_id": locked.pk, "feedback_id": feedback.pk},
                )
        task_items_close(
            task=locked,
            kinds=[ItemKind.TASK_UNCONFIRMED],
            why="Closed by itself: the member confirmed the work.",
        )
        _audit(
            locked,
            "task.settled",
            caller,
            minutes_billed=billed,
            minutes_held=held,
            minutes_settled=settled,
            minutes_unpaid=billed - settled,
            feedback=rating is not None or bool(comment.strip()),
            call_reference=call_reference,
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


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("required", "reason: Say why.", field="reason")
    if len(reason) > 500:
        raise InvalidInput("invalid", "A reason is at most 500 characters.", field="reason")
    return reason


@retry_on_conflict
def task_cancel(
    *,
    task: Task,
    caller: Caller,
    reason: str,
    call_reference: str = "",
    now: datetime | None = None,
) -> Outcome:
    """The member or staff call the task off: the hold goes back to the member (staff give
    the `call_reference` of the member's call too, which the audit row keeps). An accepted
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
            memo=f"Back from {task_ref(locked.pk)}: cancelled",
        )
        _update(
            locked,
            status=TaskStatus.CANCELLED,
            helper=None,
            cancel_reason=reason,
            closed_at=now,
            next_offer_at=None,
        )
        _audit(
            locked,
            "task.cancelled",
            caller,
            reason,
            helper_id=had_helper.pk if had_helper else None,
            call_reference=call_reference,
        )
        if no_helper_item_possible(task=locked, now=now):
            task_items_close(
                task=locked,
                kinds=[ItemKind.TASK_NO_HELPER],
                why="Closed by itself: the request was cancelled.",
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
        _update(
            locked,
            where={"status": TaskStatus.ACCEPTED},
            status=TaskStatus.OPEN,
            helper=None,
            accepted_at=None,
            next_offer_at=now,
        )
        _audit(locked, "task.handed_back", caller, reason, helper_id=helper.pk)
        if no_helper_item_possible(task=locked, now=now):
            times = AuditEvent.objects.filter(
                circle_id=locked.circle_id, action="task.handed_back", data__task_id=locked.pk
            ).count()
            task_handed_back_raise(task=locked, times=times, reason=reason, now=now)
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
            memo=f"Back from {task_ref(locked.pk)}: nobody was free",
        )
        _update(
            locked,
            where={"status": TaskStatus.OPEN},
            status=TaskStatus.EXPIRED,
            closed_at=now,
            next_offer_at=None,
        )
        _audit(locked, "task.expired", None)
        task_items_close(
            task=locked,
            kinds=[ItemKind.TASK_NO_HELPER],
            why="Closed by itself: the request's time ran out (an operator rings the member).",
        )
        # Nobody took it: an operator rings the member to offer another time. Once per task
        # (the cause), whichever run of the job expired it.
        item_raise(
            member=locked.member,
            kind=ItemKind.TASK_UNACCEPTED,
            cause=f"task:{locked.pk}",
            task_id=locked.pk,
            note=(
                f"No helper took “{locked.title}” "
                f"({words.window(locked.window_start, locked.window_end)}) before its time "
                "ran out; the tokens set aside went back. Ring to offer another time."
            ),
            audit_data={"task_id": locked.pk},
        )
        notify.on_expired(locked)
    return Outcome(locked, True)


def tasks_expire(*, now: datetime | None = None) -> int:
    """The periodic job: expire every open task whose window has ended. Each in its own
    transaction, so one failure leaves the others done; running twice expires nothing twice."""
    now = _now(now)
    due = Task.objects.filter(status=TaskStatus.OPEN, window_end__lte=now).order_by("id")
    return sum(task_expire(task=task, now=now).changed for task in due)
