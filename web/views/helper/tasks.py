"""A task, as a helper sees it: before accepting, where (the postcode district and the
distance), when, how long and what it is, never the address; accepting in one tap; once
theirs, the member's first name, address and phone, "I've done it" with the minutes (the
billing shown before anything is written) and "I can't do it after all".

A helper reads a task here only while it is in their feed, is theirs, or once was (they were
offered it, or had it): matching.access decides, and every other task, another circle's
included, is "page not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circle import words
from circle.errors import DomainError
from circle.messages import message_for
from circle.models import VettingLevel
from helpers.models import Helper, HelperKind
from matching.access import TaskAccess, TaskRole, task_access
from matching.models import Task, TaskStatus
from matching.selectors import helper_distance_km, helper_ineligibility, task_billing
from matching.services import billed_minutes, task_accept, task_complete, task_hand_back
from web.forms_helper import DoneForm, HandBackForm
from web.views.base import form_error, helper_required, render_page
from web.views.helper.feed import distance_words, earnings_words

# The rules' refusals (matching/rules.py), said to the helper who tried: the API's details
# speak of "the helper" to whoever reads them; here the helper is "you".
REFUSALS = {
    "helper_paused": gettext_lazy(
        "You have paused, so you cannot take tasks. Resume from your profile to take this one."
    ),
    "own_task": gettext_lazy("This is your own request, so another helper will take it."),
    "helper_suspended": gettext_lazy(
        "You cannot take tasks while a coordinator has stopped offering you tasks. Please "
        "contact your circle's coordinator."
    ),
    "blocked_by_member": gettext_lazy("This task is not one you can take."),
    "vetting_too_low": gettext_lazy(
        "This kind of help needs more checks than you have had so far. Your circle's "
        "coordinator can tell you more."
    ),
    "skill_missing": gettext_lazy("This is not one of the kinds of help you offer."),
    "too_far": gettext_lazy("This is further away than you said you would travel."),
    "not_available": gettext_lazy("This is outside the times you said you are free."),
    "task_taken": gettext_lazy("Someone else has just taken this."),
    "task_cancelled": gettext_lazy("The member has cancelled this task."),
    "task_expired": gettext_lazy("The time for this task has passed."),
    "task_settled": gettext_lazy("This task is finished."),
}


def refusal_words(error: DomainError) -> str:
    return str(REFUSALS.get(error.code) or message_for(error))


@dataclass(frozen=True)
class Looking:
    """The task and how the signed-in helper stands to it."""

    access: TaskAccess
    helper: Helper

    @property
    def task(self) -> Task:
        return self.access.task

    @property
    def theirs(self) -> bool:
        """The task is the helper's: accepted, done, or finished by them."""
        return self.task.helper_id == self.helper.pk


def _in_feed(task: Task, helper: Helper) -> bool:
    """What matching.access lets another helper read: the task is open and one they may take."""
    return (
        not helper.suspended
        and helper.vetting_level != VettingLevel.NONE
        and task.status == TaskStatus.OPEN
        and task.window_end > timezone.now()
        and helper_ineligibility(task=task, helper=helper) is None
    )


def _look(request: HttpRequest, task_id: int, *, reading: bool = True) -> Looking:
    """`reading`: for showing the task (only one in their feed, theirs, or once theirs).
    Accepting is not reading: any helper of the circle may try, and is told in words why not
    (someone was quicker, the task was cancelled, a rule turns them away), without the task's
    details, as the API answers 409 or 403."""
    try:
        access = task_access(user=request.user, task_id=task_id, reading=reading)
    except DomainError:
        raise Http404 from None
    helper = access.helper
    if helper is None or access.role is TaskRole.MEMBER:
        # Their own request is on their member pages; a helper page of it would show
        # them as someone who could take it.
        raise Http404
    looking = Looking(access=access, helper=helper)
    if (
        reading
        and access.role is TaskRole.STAFF
        and not (looking.theirs or _in_feed(access.task, helper))
    ):
        # Staff who also help see, as helpers, what any helper would.
        raise Http404
    return looking


def _facts(task: Task, helper: Helper) -> list[dict[str, Any]]:
    """What any helper who may read the task sees: never the member's name or address."""
    circle = task.circle
    rows: list[dict[str, Any]] = [
        {"key": _("Kind of help"), "value": task.category.name},
        {
            "key": _("Where"),
            "value": _("%(district)s, %(far)s")
            % {
                "district": task.postcode_district,
                "far": distance_words(helper_distance_km(task=task, helper=helper)),
            },
        },
        {"key": _("When"), "value": words.window(task.window_start, task.window_end)},
        {"key": _("How long"), "value": words.duration(task.estimated_minutes)},
    ]
    if task.details:
        rows.append({"key": _("About the job"), "value": task.details})
    if task.status == TaskStatus.OPEN:
        rows.append(
            {
                "key": _("What it is worth"),
                "value": earnings_words(
                    helper=helper, circle=circle, estimated_minutes=task.estimated_minutes
                ),
            }
        )
    return rows


def _member_rows(task: Task) -> list[dict[str, Any]]:
    """For the task's helper while it is theirs: who, and where to go."""
    member = task.member
    address = [line for line in (member.address_line1, member.postcode) if line]
    return [
        {"key": _("Who"), "value": member.first_name},
        {"key": _("Address"), "lines": address},
    ]


def _state(task: Task, *, theirs: bool) -> str:
    """Where the task stands for this helper, in the words of the page (web/helper/_state.html)."""
    if task.status == TaskStatus.OPEN:
        return "open"
    if task.status in (TaskStatus.CANCELLED, TaskStatus.EXPIRED):
        return str(task.status)
    if not theirs:
        return "taken"
    return {
        TaskStatus.ACCEPTED: "yours",
        TaskStatus.COMPLETED: "waiting",
        TaskStatus.SETTLED: "finished",
    }[TaskStatus(task.status)]


@helper_required
def detail(request: HttpRequest, task_id: int) -> HttpResponse:
    looking = _look(request, task_id)
    task, helper = looking.task, looking.helper
    theirs = looking.theirs
    sees_address = theirs and task.status in (TaskStatus.ACCEPTED, TaskStatus.COMPLETED)
    return render_page(
        request,
        "web/helper/task.html",
        {
            "task": task,
            "helper": helper,
            "state": _state(task, theirs=theirs),
            "sees_address": sees_address,
            "member_rows": _member_rows(task) if sees_address else [],
            "member": task.member if sees_address else None,
            "rows": _facts(task, helper),
            "billing": task_billing(task) if theirs else None,
            "volunteer": helper.kind == HelperKind.VOLUNTEER,
        },
    )


@helper_required
def accept(request: HttpRequest, task_id: int) -> HttpResponse:
    """One tap: the form on the task's page posts here. Whoever was quicker, or a task no
    longer open, is said in plain words on a page of its own, never as an error."""
    looking = _look(request, task_id, reading=False)
    if request.method != "POST":
        return redirect("web:helper-task", task_id=task_id)
    try:
        task_accept(task=looking.task, helper=looking.helper, caller=looking.access.caller)
    except DomainError as error:
        return render_page(
            request,
            "web/helper/task_gone.html",
            {"said": refusal_words(error), "code": error.code},
        )
    messages.success(
        request,
        _("You have accepted it. We will tell %(name)s you are coming.")
        % {"name": looking.task.member.first_name},
    )
    return redirect("web:helper-task", task_id=task_id)


def _own_accepted(request: HttpRequest, task_id: int) -> Looking | HttpResponse:
    """The task, if it is the helper's and not yet done; else back to its page, which says
    where it stands (or "page not found" for a task that is not theirs)."""
    looking = _look(request, task_id)
    if not looking.theirs:
        raise Http404
    if looking.task.status != TaskStatus.ACCEPTED:
        return redirect("web:helper-task", task_id=task_id)
    return looking


@helper_required
def done(request: HttpRequest, task_id: int) -> HttpResponse:
    """ "I've done it", in two steps: the minutes, then what that is billed as (the circle's
    increment applies) with a button to confirm it. Only the second step writes."""
    looking = _own_accepted(request, task_id)
    if isinstance(looking, HttpResponse):
        return looking
    task = looking.task
    circle = task.circle
    form = DoneForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"task": task, "form": form}
    if request.method == "POST" and form.is_valid():
        minutes = form.cleaned_data["minutes"]
        if form.cleaned_data["confirmed"]:
            try:
                task_complete(
                    task=task, helper=looking.helper, caller=looking.access.caller, minutes=minutes
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("Thank you. We have asked %(name)s to confirm it.")
                    % {"name": task.member.first_name},
                )
                return redirect("web:helper-task", task_id=task_id)
        else:
            billed = billed_minutes(minutes=minutes, increment=circle.billing_increment_minutes)
            return render_page(
                request,
                "web/helper/task_done_check.html",
                {
                    "task": task,
                    "minutes": minutes,
                    "did": words.duration(minutes),
                    "billed": words.time_and_tokens(billed, token_minutes=circle.token_minutes),
                    "billed_time": words.duration(billed),
                    "rounded": billed != minutes,
                    "increment": words.duration(circle.billing_increment_minutes),
                    "volunteer": looking.helper.kind == HelperKind.VOLUNTEER,
                },
            )
    return render_page(request, "web/helper/task_done.html", context)


@helper_required
def hand_back(request: HttpRequest, task_id: int) -> HttpResponse:
    """ "I can't do it after all": with a reason, the task is open again and offered to
    other helpers."""
    looking = _own_accepted(request, task_id)
    if isinstance(looking, HttpResponse):
        return looking
    task = looking.task
    form = HandBackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            task_hand_back(
                task=task,
                helper=looking.helper,
                caller=looking.access.caller,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("You have handed back “%(title)s”. We will offer it to other helpers.")
                % {"title": task.title},
            )
            return redirect("web:helper-feed")
    return render_page(request, "web/helper/task_hand_back.html", {"task": task, "form": form})
