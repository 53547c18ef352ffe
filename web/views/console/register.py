"""Registering a caller (`/console/{slug}/members/new/`): every answer on one page, checked by
the rules `member_join` applies (the circle's age and area, a phone number we can call, an email
nobody else uses), each refusal beside its field and in the error summary, and nothing written
until every answer is right.

A caller who may already be registered (the same phone number in any spacing, or the same name
and date of birth: `members.selectors.member_duplicates`) is offered, with a link to their card,
rather than registered again; the operator goes on only by ticking "No, this is a different
person". The registration is `member_join` as staff, as the API's
`POST /api/v1/circles/{slug}/members/` is: audited as done for the new member, with the call
reference, which this page requires.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from circle.errors import DomainError
from circle.messages import message_for_staff
from circle.models import Circle
from circle.selectors import postcode_resolve_in_area
from members.models import Member
from members.selectors import Caller, member_duplicates
from members.services import email_check_free, member_age_check, member_join, phone_normalise
from web.forms_console import RegisterForm
from web.views.base import render_page, staff_required

# Registrations this session made, by the form's submission key: the same form sent again (a
# double press, a retry after a slow answer) goes to the caller it registered.
SESSION_KEY = "console_registered"
REMEMBERED = 20


def _refuse(form: forms.Form, error: DomainError) -> None:
    """A service's refusal beside its field (at the top when the form has no such field), in
    the words staff read."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, message_for_staff(error))


def _check_each(circle: Circle, form: RegisterForm) -> str:
    """Each answer the form accepted, through the service's own rule for it, so that every
    problem is shown at once rather than one a press. Returns the phone number in E.164, or ""
    when it was not accepted."""
    cleaned = form.cleaned_data
    checks: list[tuple[str, Any]] = [
        ("date_of_birth", lambda v: member_age_check(circle=circle, born=v)),
        ("postcode", lambda v: postcode_resolve_in_area(circle=circle, raw=v)),
        ("email", lambda v: email_check_free(email=v, circle=circle) if v else None),
    ]
    for name, check in checks:
        if name in cleaned:
            try:
                check(cleaned[name])
            except DomainError as error:
                _refuse(form, error)
    if "phone" in cleaned:
        try:
            return phone_normalise(cleaned["phone"])
        except DomainError as error:
            _refuse(form, error)
    return ""


def _offer(duplicates: list[Member], phone: str) -> list[dict[str, Any]]:
    """Each possible match, with why it matched, for the operator to read out."""
    offered = []
    for member in duplicates:
        same_phone = bool(phone) and member.phone == phone
        offered.append(
            {
                "member": member,
                "why": _("the same phone number")
                if same_phone
                else _("the same name and date of birth"),
            }
        )
    return offered


def _remembered(request: HttpRequest) -> dict[str, int]:
    found: dict[str, int] = request.session.get(SESSION_KEY, {})
    return found


def _remember(request: HttpRequest, submission: str, member: Member) -> None:
    done = _remembered(request)
    done[submission] = member.pk
    request.session[SESSION_KEY] = dict(list(done.items())[-REMEMBERED:])


@staff_required
def register(request: HttpRequest, circle: Circle) -> HttpResponse:
    caller: Caller = request.caller  # type: ignore[attr-defined]
    duplicates: list[Member] = []
    phone = ""
    if request.method == "POST":
        form = RegisterForm(request.POST)
        submission = str(request.POST.get("submission", ""))
        already = _remembered(request).get(submission) if submission else None
        if already is not None:
            return redirect("web:console-member", circle.slug, already)
        form.is_valid()
        phone = _check_each(circle, form)
        cleaned = form.cleaned_data
        duplicates = member_duplicates(
            circle=circle,
            phone=phone,
            full_name=cleaned.get("full_name", ""),
            date_of_birth=cleaned.get("date_of_birth"),
        )
        offered_before = request.POST.get("offered") == "1"
        if duplicates and not cleaned.get("different_person") and offered_before:
            form.add_error(
                "different_person",
                _(
                    "This caller may already be registered. Open their card, or tick “No, "
                    "this is a different person” to register them."
                ),
            )
        if not form.errors and (not duplicates or cleaned.get("different_person")):
            try:
                member = member_join(
                    circle=circle,
                    caller=caller,
                    full_name=cleaned["full_name"],
                    phone=cleaned["phone"],
                    date_of_birth=cleaned["date_of_birth"],
                    address_line1=cleaned["address_line1"],
                    postcode=cleaned["postcode"],
                    email=cleaned["email"] or None,
                    call_reference=cleaned["call_reference"],
                )
            except DomainError as error:
                _refuse(form, error)
            else:
                if submission:
                    _remember(request, submission, member)
                messages.success(request, _("%(name)s is registered.") % {"name": member.full_name})
                return redirect("web:console-member", circle.slug, member.pk)
    else:
        initial = {
            name: request.GET.get(name, "")[:100] for name in ("full_name", "phone", "postcode")
        }
        form = RegisterForm(initial={**initial, "submission": secrets.token_urlsafe(16)})
    return render_page(
        request,
        "web/console/register.html",
        {
            "form": form,
            "offered": _offer(duplicates, phone),
            "different_person": form["different_person"],
        },
    )
