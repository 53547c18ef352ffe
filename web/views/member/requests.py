"""A member's own request: where it stands, calling it off, and saying it has been done.

Only the task's own member sees these pages: another member's task, another circle's, or a
task the signed-in person only helps with or runs as staff is "page not found" here (staff
have the console, helpers their own pages).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from circle import words
from circle.errors import DomainError
from matching.access import TaskAccess, TaskRole, task_access
from matching.models import WITH_HELPER, RecurrenceInterval, Task, TaskStatus
from matching.selectors import task_billing
from matching.services import task_cancel, task_confirm
from members.models import Member, TrustedScope
from tokens.models import HoldStatus
from web.forms_ask import CancelForm, ConfirmForm
from web.views.base import form_error, member_required, render_page, trusted_scope

CANCELLABLE = (TaskStatus.OPEN, TaskStatus.ACCEPTED)
# task_cancel needs a reason for the audit log; a member need not give one.
NO_REASON = "The member cancelled it on the website and gave no reason."


def _own(request: HttpRequest, task_id: int) -> TaskAccess:
    """The task, if it is the signed-in member's own in the circle they are looking at."""
    member: Member = request.member  # type: ignore[attr-defined]
    try:
        access = task_access(user=request.user, task_id=task_id, reading=True)
    except DomainError:
        raise Http404 from None
    # A trusted person acting for the member reads it as the member does (their scopes were
    # checked by task_access and the page's own `trusted_scope`).
    if access.role not in (TaskRole.MEMBER, TaskRole.TRUSTED) or access.task.member_id != member.pk:
        raise Http404
    return access


def _may(access: TaskAccess, scope: str) -> bool:
    """Whether the caller may do what `scope` covers: the member always, a trusted person
    only with the scope."""
    return not access.caller.is_trusted or scope in access.caller.scopes


def _helper_name(access: TaskAccess) -> str:
    """The helper's first name, and never more, once one has said they will come."""
    task = access.task
    if task.status in WITH_HELPER and task.helper is not None:
        return task.helper.member.first_name
    return ""


def _rows(task: Task, helper_name: str) -> list[dict[str, Any]]:
    """The request's facts for the summary list: what, when, how long, who, what is held."""
    token_minutes = task.circle.token_minutes
    rows: list[dict[str, Any]] = [{"key": _("Kind of help"), "value": task.category.name}]
    if task.details:
        rows.append({"key": _("About the job"), "value": task.details})
    rows += [
        {"key": _("When"), "value": words.window(task.window_start, task.window_end)},
        {"key": _("How long you thought"), "value": words.duration(task.estimated_minutes)},
    ]
    if helper_name:
        rows.append({"key": _("Helper"), "value": helper_name})
    if task.hold.status == HoldStatus.OPEN:
        rows.append(
            {
                "key": _("Set aside"),
                "value": words.time_and_tokens(task.hold.minutes, token_minutes=token_minutes),
            }
        )
    if task.series is not None:
        rows.append(
            {
                "key": _("Repeats"),
                "value": _("Every week")
                if task.series.interval_weeks == RecurrenceInterval.WEEKLY
                else _("Every two weeks"),
            }
        )
    return rows


@member_required
@trusted_scope("ask", "confirm")
def detail(request: HttpRequest, task_id: int) -> HttpResponse:
    access = _own(request, task_id)
    task = access.task
    helper_name = _helper_name(access)
    return render_page(
        request,
        "web/member/request.html",
        {
            "task": task,
            "helper_name": helper_name,
            "rows": _rows(task, helper_name),
            "billing": task_billing(task),
            "can_cancel": task.status in CANCELLABLE and _may(access, TrustedScope.ASK),
            "can_confirm": task.status == TaskStatus.COMPLETED
            and _may(access, TrustedScope.CONFIRM),
        },
    )


@member_required
@trusted_scope("ask")
def cancel(request: HttpRequest, task_id: int) -> HttpResponse:
    access = _own(request, task_id)
    task = access.task
    if task.status not in CANCELLABLE:
        return redirect("web:member-request", task_id=task.pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            task_cancel(
                task=task, caller=access.caller, reason=form.cleaned_data["reason"] or NO_REASON
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("Your request is cancelled. The %(amount)s set aside is back with you.")
                % {
                    "amount": words.time_and_tokens(
                        task.hold.minutes, token_minutes=task.circle.token_minutes
                    )
                },
            )
            return redirect("web:member-request", task_id=task.pk)
    return render_page(
        request,
        "web/member/request_cancel.html",
        {"task": task, "form": form, "helper_name": _helper_name(access)},
    )


@member_required
@trusted_scope("confirm")
def confirm(request: HttpRequest, task_id: int) -> HttpResponse:
    access = _own(request, task_id)
    task = access.task
    if task.status != TaskStatus.COMPLETED:
        return redirect("web:member-request", task_id=task.pk)
    name = _helper_name(access)
    form = ConfirmForm(request.POST if request.method == "POST" else None, helper_name=name)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = task_confirm(
                task=task,
                caller=access.caller,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _paid_words(outcome.task, name))
            return redirect("web:member-request", task_id=task.pk)
    return render_page(
        request,
        "web/member/request_confirm.html",
        {"task": task, "form": form, "helper_name": name, "billing": task_billing(task)},
    )


def _paid_words(task: Task, name: str) -> str:
    """ "Thank you. 2 hours (2 tokens) paid for Hana's help. 30 minutes (0.5 tokens) came back
    to you." """
    billing = task_billing(task)
    assert billing is not None
    assert billing.settled is not None
    minutes = task.circle.token_minutes

    def amount(n: int) -> str:
        return words.time_and_tokens(n, token_minutes=minutes)

    said = [
        _("Thank you. %(paid)s paid for %(name)s's help.")
        % {"paid": amount(billing.settled.minutes), "name": name}
    ]
    if billing.returned and billing.returned.minutes:
        said.append(_("%(back)s came back to you.") % {"back": amount(billing.returned.minutes)})
    if billing.unpaid and billing.unpaid.minutes:
        said.append(
            _(
                "%(unpaid)s more could not be paid, as you did not have enough tokens. We will "
                "be in touch."
            )
            % {"unpaid": amount(billing.unpaid.minutes)}
        )
    return " ".join(said)
