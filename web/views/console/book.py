"""Booking help for a caller, and calling off or confirming one of their requests, from the
caller's card.

Booking is one page with every question (staff book all day), then a check step that shows
what will be set aside from the member's tokens, then one button. The page's forms and rules
are the member's own ask pages' (web/forms_ask.py, through web/forms_card.py), and it books
through the same service (matching.services.task_book) with an idempotency key made when the
form was first shown and carried by the check step: the button pressed twice, or the form sent
again, books once. The answers travel in the check step's hidden fields, not the session, so
an operator may have two callers' pages open at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circle import words
from circle.errors import DomainError, NotFound
from circle.messages import message_for
from circle.models import Circle
from matching.access import member_task_get
from matching.models import WITH_HELPER, PreferenceKind, Task, TaskStatus
from matching.selectors import KnownHelper, member_known_helpers, task_billing
from matching.services import billed_minutes, task_book, task_cancel, task_confirm
from members.models import Member
from members.selectors import Caller
from tokens.selectors import member_tokens
from web.forms_ask import NO_PREFERENCE, ConfirmForm
from web.forms_card import Booking, CallForm
from web.views.base import form_error, render_page, staff_required
from web.views.console.card import call_initial, call_remember, caller_member
from web.views.member.ask import prefer_helper

SERVED = ("active", "grace")
CANCELLABLE = (TaskStatus.OPEN, TaskStatus.ACCEPTED)

# Which field a booking service's refusal is about, so the error summary links to it.
REFUSAL_FIELD = {
    "unknown_category": "id_category",
    "window_in_past": "id_start",
    "window_too_far": "id_day",
    "window_invalid": "id_end",
    "window_too_long": "id_end",
    "estimate_invalid": "id_minutes",
    "estimate_exceeds_window": "id_minutes",
}


class KeyForm(forms.Form):
    key = forms.CharField(max_length=64)


def _choosable(member: Member) -> list[KnownHelper]:
    """The helpers the member knows, less those they blocked: who may be asked first."""
    return [k for k in member_known_helpers(member=member) if k.word != PreferenceKind.BLOCKED]


def _preferred(helpers: list[KnownHelper]) -> str:
    found = next((k for k in helpers if k.word == PreferenceKind.PREFERRED), None)
    return str(found.helper.pk) if found else NO_PREFERENCE


def _refusal(error: DomainError, member: Member, circle: Circle) -> dict[str, str]:
    """A booking service's refusal in staff's words, linking to what to change."""
    href = f"#{REFUSAL_FIELD[error.code]}" if error.code in REFUSAL_FIELD else ""
    text = message_for(error)
    if error.code == "insufficient_tokens":
        text = _(
            "%(name)s does not have enough tokens for this now. Record a payment for tokens, "
            "or choose a shorter time."
        ) % {"name": member.first_name}
        href = reverse("web:console-payment", args=[circle.slug, member.pk])
    elif error.code == "membership_inactive":
        text = _not_served(member)
        href = reverse("web:console-payment", args=[circle.slug, member.pk])
    elif error.code == "idempotency_key_reused":
        text = _("This page has booked help already. To book more, start again from the card.")
        href = reverse("web:console-book", args=[circle.slug, member.pk])
    elif error.code == "no_home_location":
        text = _("We have no home postcode for %(name)s: add it to their contact details.") % {
            "name": member.first_name
        }
        href = reverse("web:console-details", args=[circle.slug, member.pk])
    return {"href": href, "text": text}


def _not_served(member: Member) -> str:
    return _(
        "%(name)s's membership is %(status)s, so they cannot ask for help until it is paid. "
        "Their tokens are still theirs."
    ) % {"name": member.first_name, "status": member.get_membership_status_display().lower()}


def _summary(booking: Booking, member: Member, helpers: list[KnownHelper]) -> list[dict[str, Any]]:
    data = booking.cleaned_data
    window = booking.window
    assert window is not None
    names = dict(booking.category.fields["category"].choices)  # type: ignore[attr-defined]
    rows: list[dict[str, Any]] = [
        {"key": _("Call reference"), "value": data["call_reference"]},
        {"key": _("Kind of help"), "value": names.get(data["category"], data["category"])},
        {
            "key": _("The job"),
            "lines": [data["title"], *([data["details"]] if data["details"] else [])],
        },
        {"key": _("When"), "value": words.window(*window)},
        {"key": _("How long"), "value": words.duration(int(data["minutes"]))},
    ]
    if helpers:
        chosen = {str(k.helper.pk): k.first_name for k in helpers}.get(data["helper"])
        rows.append(
            {
                "key": _("Helper to ask first"),
                "value": chosen or _("No preference: anyone suitable"),
            }
        )
    return rows


@staff_required
def book(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    helpers = _choosable(member)
    tokens = member_tokens(member=member)
    served = member.membership_status in SERVED
    context: dict[str, Any] = {"member": member, "tokens": tokens, "served": served}
    if request.method != "POST":
        booking = Booking(
            None,
            member=member,
            helpers=helpers,
            initial={"helper": _preferred(helpers), **call_initial(request, member)},
        )
        context.update(booking=booking, key=uuid.uuid4().hex, errors=[])
        return render_page(request, "web/console/book.html", context)

    key_form = KeyForm(request.POST)
    key = key_form.cleaned_data["key"] if key_form.is_valid() else uuid.uuid4().hex
    booking = Booking(request.POST, member=member, helpers=helpers)
    errors: list[dict[str, str]] = []
    context.update(booking=booking, key=key, errors=errors)
    if not served:
        errors.append(
            {
                "href": reverse("web:console-payment", args=[circle.slug, member.pk]),
                "text": _not_served(member),
            }
        )
        context["form_has_errors"] = True
        return render_page(request, "web/console/book.html", context)
    if not booking.is_valid():
        for form in booking.forms:
            for field in form:
                if field.errors:
                    errors.append({"href": f"#{field.auto_id}", "text": str(field.errors[0])})
        context["form_has_errors"] = True
        return render_page(request, "web/console/book.html", context)
    if request.POST.get("action") == "edit":
        # "Change the booking" on the check step: the form again, as it was filled in.
        return render_page(request, "web/console/book.html", context)

    data = booking.cleaned_data
    hold = billed_minutes(minutes=int(data["minutes"]), increment=circle.billing_increment_minutes)
    context.update(
        rows=_summary(booking, member, helpers),
        answers=booking.answers(),
        hold=hold,
        enough=tokens.available >= hold,
        helper_change=_helper_change(data["helper"], helpers, member),
    )
    if request.POST.get("action") != "book":
        # The check step: what will be booked and set aside, before anything is written.
        return render_page(request, "web/console/book_check.html", context)

    assert booking.window is not None
    reference = data["call_reference"]
    try:
        prefer_helper(member, caller, data["helper"], helpers, call_reference=reference)
        outcome = task_book(
            member=member,
            caller=caller,
            category=data["category"],
            title=data["title"],
            details=data["details"],
            window_start=booking.window[0],
            window_end=booking.window[1],
            estimated_minutes=int(data["minutes"]),
            idempotency_key=key,
            call_reference=reference,
        )
    except DomainError as error:
        errors.append(_refusal(error, member, circle))
        context["form_has_errors"] = True
        return render_page(request, "web/console/book_check.html", context)
    call_remember(request, member, reference)
    if outcome.changed:
        messages.success(
            request,
            _("Help is booked for %(name)s: “%(title)s”, %(when)s. %(held)s is set aside.")
            % {
                "name": member.full_name,
                "title": outcome.task.title,
                "when": words.window(outcome.task.window_start, outcome.task.window_end),
                "held": words.time_and_tokens(hold, token_minutes=circle.token_minutes),
            },
        )
    else:
        messages.info(request, _("That help was already booked: it is listed below."))
    return redirect("web:console-member", circle.slug, member.pk)


def _helper_change(chosen: str, helpers: list[KnownHelper], member: Member) -> str:
    """What booking does to the member's standing preference, in words ("" for nothing)."""
    preferred = next((k for k in helpers if k.word == PreferenceKind.PREFERRED), None)
    if chosen == NO_PREFERENCE:
        if preferred is None:
            return ""
        return _("%(helper)s will no longer be asked first for %(name)s's requests.") % {
            "helper": preferred.first_name,
            "name": member.first_name,
        }
    if preferred is not None and str(preferred.helper.pk) == chosen:
        return ""
    helper = next((k.first_name for k in helpers if str(k.helper.pk) == chosen), "")
    if not helper:
        return ""
    return _(
        "%(helper)s becomes %(name)s's preferred helper, asked first for this and later requests."
    ) % {"helper": helper, "name": member.first_name}


def _task(member: Member, task_id: int) -> Task:
    try:
        return member_task_get(member=member, task_id=task_id)
    except NotFound:
        raise Http404 from None


def _helper_name(task: Task) -> str:
    if task.status in WITH_HELPER and task.helper is not None:
        return task.helper.member.first_name
    return ""


class CancelForm(CallForm):
    reason = forms.CharField(
        label=gettext_lazy("Why is it cancelled?"),
        help_text=gettext_lazy("Kept in the audit log and on the member's list of what staff did."),
        max_length=500,
        widget=forms.Textarea,
        error_messages={
            "required": gettext_lazy("Say why the request is cancelled."),
            "max_length": gettext_lazy("Use 500 characters or fewer."),
        },
    )


@staff_required
def cancel(request: HttpRequest, circle: Circle, member_id: int, task_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    task = _task(member, task_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    if task.status not in CANCELLABLE:
        messages.info(request, _("That request can no longer be cancelled."))
        return redirect("web:console-member", circle.slug, member.pk)
    form = CancelForm(
        request.POST if request.method == "POST" else None, initial=call_initial(request, member)
    )
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["call_reference"]
        try:
            task_cancel(
                task=task,
                caller=caller,
                reason=form.cleaned_data["reason"],
                call_reference=reference,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            call_remember(request, member, reference)
            messages.success(
                request,
                _("“%(title)s” is cancelled. %(amount)s is back with %(name)s.")
                % {
                    "title": task.title,
                    "amount": words.time_and_tokens(
                        task.hold.minutes, token_minutes=circle.token_minutes
                    ),
                    "name": member.first_name,
                },
            )
            return redirect("web:console-member", circle.slug, member.pk)
    return render_page(
        request,
        "web/console/cancel.html",
        {"member": member, "task": task, "form": form, "helper_name": _helper_name(task)},
    )


class ConfirmCallForm(CallForm, ConfirmForm):
    """The member's own "it's been done" form (a rating and their words), with the call
    reference."""


@staff_required
def confirm(request: HttpRequest, circle: Circle, member_id: int, task_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    task = _task(member, task_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    if task.status != TaskStatus.COMPLETED:
        messages.info(request, _("That request is not waiting to be confirmed."))
        return redirect("web:console-member", circle.slug, member.pk)
    name = _helper_name(task)
    form = ConfirmCallForm(
        request.POST if request.method == "POST" else None,
        initial=call_initial(request, member),
        helper_name=name,
    )
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["call_reference"]
        try:
            task_confirm(
                task=task,
                caller=caller,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                call_reference=reference,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            call_remember(request, member, reference)
            messages.success(
                request,
                _("“%(title)s” is confirmed as done, and %(name)s's help is paid for.")
                % {"title": task.title, "name": name},
            )
            return redirect("web:console-member", circle.slug, member.pk)
    return render_page(
        request,
        "web/console/confirm.html",
        {
            "member": member,
            "task": task,
            "form": form,
            "helper_name": name,
            "billing": task_billing(task),
        },
    )
