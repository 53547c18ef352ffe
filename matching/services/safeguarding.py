"""Suspending a helper named in a safeguarding concern: one action that records the suspension
on the helper's vetting record and hands back every task the helper had accepted and not yet
done, so it is offered to other helpers at once."""

from __future__ import annotations

from dataclasses import dataclass

from attention.models import Concern
from attention.services import concern_note_add
from circle.errors import Conflict, Forbidden, InvalidInput
from helpers.models import Helper
from helpers.services import helper_suspension_set
from matching.models import Task, TaskStatus
from matching.services.lifecycle import task_hand_back
from members.selectors import Caller
from members.services import audit_record


@dataclass(frozen=True)
class Suspension:
    helper: Helper
    handed_back: list[Task]


# Why a suspended helper's requests were handed back, as the members they were for read it.
HANDED_BACK = "The helper can no longer do this; it is offered to other helpers."


def concern_helper_suspend(*, concern: Concern, caller: Caller, reason: str) -> Suspension:
    """A coordinator suspends the helper a concern names, with a reason: the suspension is
    recorded on the vetting record (`helper_suspension_set`, audited there), then each task the
    helper had accepted is handed back and re-offered (`task_hand_back`, one durable
    transaction each, audited). A helper already suspended is not suspended again, and tasks
    still with them are handed back, so running it again after a failure finishes the job."""
    if not caller.is_coordinator or caller.member is None:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")
    if caller.member.circle_id != concern.circle_id:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")
    if concern.closed_at is not None:
        raise Conflict("concern_closed", "This concern is closed.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("required", "reason: Say why.", field="reason")
    helper = (
        Helper.objects.select_related("member", "circle")
        .filter(member_id=concern.about_helper_id)
        .first()
        if concern.about_helper_id is not None
        else None
    )
    if helper is None:
        raise Conflict("concern_no_helper", "This concern does not name a helper.")
    if not helper.suspended:
        helper = helper_suspension_set(helper=helper, caller=caller, suspended=True, reason=reason)
    handed_back = []
    tasks = Task.objects.filter(helper=helper, status=TaskStatus.ACCEPTED).order_by("id")
    for task in tasks:
        # The member whose request it was reads this reason on what staff did for them: it
        # says nothing of the concern (the suspension's own reason stays on the vetting record).
        outcome = task_hand_back(task=task, helper=helper, caller=caller, reason=HANDED_BACK)
        if outcome.changed:
            handed_back.append(outcome.task)
    audit_record(
        circle=concern.circle,
        action="concern.helper_suspended",
        caller=caller,
        member=helper.member,
        data={
            "concern_id": concern.pk,
            "helper_id": helper.pk,
            "task_ids": [task.pk for task in handed_back],
        },
    )
    concern_note_add(
        concern=concern,
        caller=caller,
        text=(
            f"Helper suspended ({reason}). "
            f"{len(handed_back)} accepted request(s) handed back and offered to other helpers."
        ),
    )
    return Suspension(helper=helper, handed_back=handed_back)
