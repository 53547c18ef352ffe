"""The coordinators' safeguarding concerns: the list (someone in danger first, then newest),
and a concern's page, which logs the reading and holds everything at once: what was said,
the notes, the referral to the council, suspending the helper it names, and closing it.

Each action posts to its own address and comes back to the concern's page; a refusal comes
back on the form that was sent, beside its field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from attention.models import Concern
from attention.selectors import concern_find, concern_get, concern_list
from attention.services import concern_close, concern_note_add, concern_referral_record
from circle.errors import DomainError, NotFound
from circle.models import Circle
from matching.services import concern_helper_suspend
from web.forms_concerns import ConcernCloseForm, ConcernNoteForm, ReferralForm, SuspendForm
from web.views.base import coordinator_required, form_error, render_page

# The most the list shows at once. A circle has a handful of concerns a year.
SHOWN = 200


@require_GET
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    closed = request.GET.get("show") == "closed"
    concerns = concern_list(circle=circle, caller=request.caller, closed=closed)  # type: ignore[attr-defined]
    return render_page(
        request,
        "web/coordinator/concerns_list.html",
        {"concerns": list(concerns[:SHOWN]), "closed": closed},
    )


def _concern(circle: Circle, concern_id: int) -> Concern:
    try:
        return concern_find(circle=circle, concern_id=concern_id)
    except NotFound:
        raise Http404 from None


def _concern_page(
    request: HttpRequest, circle: Circle, concern: Concern, *, status: int = 200, **forms: Any
) -> HttpResponse:
    whole = concern_get(concern=concern, caller=request.caller)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "concern": whole,
        "notes": list(whole.notes.all()),
        "readings": list(whole.readings.all()),
        "note_form": forms.get("note_form") or ConcernNoteForm(),
        "referral_form": forms.get("referral_form") or ReferralForm(),
        "suspend_form": forms.get("suspend_form") or SuspendForm(),
        "close_form": forms.get("close_form") or ConcernCloseForm(),
        "back": reverse("web:coordinator-concerns", args=[circle.slug]),
    }
    return render_page(request, "web/coordinator/concern.html", context, status=status)


@require_GET
@coordinator_required
def detail(request: HttpRequest, circle: Circle, concern_id: int) -> HttpResponse:
    return _concern_page(request, circle, _concern(circle, concern_id))


def _back(circle: Circle, concern: Concern, anchor: str = "") -> HttpResponse:
    return redirect(
        reverse("web:coordinator-concern", args=[circle.slug, concern.pk])
        + (f"#{anchor}" if anchor else "")
    )


@require_POST
@coordinator_required
def note(request: HttpRequest, circle: Circle, concern_id: int) -> HttpResponse:
    concern = _concern(circle, concern_id)
    form = ConcernNoteForm(request.POST)
    if form.is_valid():
        try:
            concern_note_add(concern=concern, caller=request.caller, text=form.cleaned_data["text"])  # type: ignore[attr-defined]
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Your note is added."))
            return _back(circle, concern, "notes")
    return _concern_page(request, circle, concern, note_form=form)


@require_POST
@coordinator_required
def referral(request: HttpRequest, circle: Circle, concern_id: int) -> HttpResponse:
    concern = _concern(circle, concern_id)
    form = ReferralForm(request.POST)
    if form.is_valid():
        try:
            concern_referral_record(
                concern=concern,
                caller=request.caller,  # type: ignore[attr-defined]
                referred_on=form.cleaned_data["referred_on"],
                reference=form.cleaned_data["reference"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The referral is recorded."))
            return _back(circle, concern)
    return _concern_page(request, circle, concern, referral_form=form)


@require_POST
@coordinator_required
def suspend(request: HttpRequest, circle: Circle, concern_id: int) -> HttpResponse:
    concern = _concern(circle, concern_id)
    form = SuspendForm(request.POST)
    if form.is_valid():
        try:
            done = concern_helper_suspend(
                concern=concern,
                caller=request.caller,  # type: ignore[attr-defined]
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(name)s is suspended. %(count)s request(s) they had taken are offered "
                    "to other helpers again."
                )
                % {"name": done.helper.member.full_name, "count": len(done.handed_back)},
            )
            return _back(circle, concern)
    return _concern_page(request, circle, concern, suspend_form=form)


@require_POST
@coordinator_required
def close(request: HttpRequest, circle: Circle, concern_id: int) -> HttpResponse:
    concern = _concern(circle, concern_id)
    form = ConcernCloseForm(request.POST)
    if form.is_valid():
        try:
            concern_close(
                concern=concern,
                caller=request.caller,  # type: ignore[attr-defined]
                outcome=form.cleaned_data["outcome"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The concern is closed."))
            return redirect("web:coordinator-concerns", circle.slug)
    return _concern_page(request, circle, concern, close_form=form)
