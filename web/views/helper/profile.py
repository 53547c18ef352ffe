"""A helper's profile: where their checks stand (and, until they are done, what happens next),
what they can do, how far they go and when, and "I'm not taking tasks for now".

Each change is one short page calling `helpers.services.helper_profile_update` with the rest of
the profile as it is; pausing and resuming are one tap (`helper_pause_set`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from circle.errors import DomainError
from circle.models import Category
from helpers.models import Helper
from helpers.selectors import helper_latest_check
from helpers.services import helper_pause_set, helper_profile_update
from web.forms_helper import AreaForm, AvailabilityForm, SkillsForm, radius_text
from web.views.base import form_error, helper_required, render_page
from web.views.helper.describe import (
    availability_lines,
    checks_of,
    kind_text,
    windows_of_helper,
)
from web.views.helper.join import availability_checked

# What each change page edits, and its title.
CHANGES: dict[str, Any] = {
    "skills": _("What kinds of help can you give?"),
    "area": _("Where can you help?"),
    "availability": _("When can you help?"),
}


def _helper(request: HttpRequest) -> Helper:
    helper: Helper = request.helper  # type: ignore[attr-defined]
    return helper


def _categories(helper: Helper) -> list[Category]:
    return list(Category.objects.filter(circle_id=helper.circle_id).order_by("name"))


@helper_required
def overview(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    skills = list(helper.skill_rows.select_related("category").order_by("category__name"))
    windows = windows_of_helper(helper)
    checks = checks_of(helper, helper_latest_check(helper=helper))

    def change(field: str) -> str:
        return reverse("web:helper-profile-change", args=[field])

    rows = [
        {"key": _("How you help"), "value": kind_text(helper.kind)},
        {
            "key": _("Kinds of help"),
            "lines": [row.category.name for row in skills],
            "href": change("skills"),
            "hidden": _("the kinds of help you give"),
        },
        {
            "key": _("Home postcode"),
            "value": helper.postcode,
            "href": change("area"),
            "hidden": _("your postcode"),
        },
        {
            "key": _("How far you travel"),
            "value": _t("Up to %(km)s km") % {"km": radius_text(helper.travel_radius_km)},
            "href": change("area"),
            "hidden": _("how far you travel"),
        },
        {
            "key": _("When you can help"),
            "lines": availability_lines(windows),
            "href": change("availability"),
            "hidden": _("when you can help"),
        },
    ]
    return render_page(
        request,
        "web/helper/profile.html",
        {"helper": helper, "rows": rows, "checks": checks},
    )


def _form(helper: Helper, field: str, data: Any) -> forms.Form:
    if field == "skills":
        chosen = [row.category.slug for row in helper.skill_rows.select_related("category")]
        return SkillsForm(data, categories=_categories(helper), initial={"skills": chosen})
    if field == "area":
        radius = radius_text(helper.travel_radius_km)
        return AreaForm(
            data,
            initial={"postcode": helper.postcode, "travel_radius_km": radius},
            current_radius=radius,
        )
    return AvailabilityForm(data, initial=AvailabilityForm.initial_for(windows_of_helper(helper)))


@helper_required
def change(request: HttpRequest, field: str) -> HttpResponse:
    if field not in CHANGES:
        raise Http404
    helper = _helper(request)
    form = _form(helper, field, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        skills = [row.category.slug for row in helper.skill_rows.select_related("category")]
        try:
            windows = (
                availability_checked(form)
                if isinstance(form, AvailabilityForm)
                else windows_of_helper(helper)
            )
            helper_profile_update(
                helper=helper,
                caller=request.caller,  # type: ignore[attr-defined]
                skills=list(data["skills"]) if field == "skills" else skills,
                travel_radius_km=data["travel_radius_km"]
                if field == "area"
                else helper.travel_radius_km,
                availability=windows,
                postcode=data["postcode"] if field == "area" else None,
            )
        except DomainError as error:
            if not form.errors:
                form_error(form, error)
        else:
            messages.success(request, _t("Your profile is saved."))
            return redirect("web:helper-profile")
    return render_page(
        request,
        "web/helper/profile_change.html",
        {"form": form, "field": field, "title": CHANGES[field]},
    )


@require_POST
@helper_required
def pause(request: HttpRequest) -> HttpResponse:
    """Pause ("paused=1") or resume ("paused=0"); pressing it twice changes nothing more."""
    helper = _helper(request)
    paused = request.POST.get("paused") == "1"
    helper_pause_set(helper=helper, caller=request.caller, paused=paused)  # type: ignore[attr-defined]
    messages.success(
        request,
        _t("You are paused: we will not offer you tasks until you resume.")
        if paused
        else _t("Welcome back: you are taking tasks again."),
    )
    return redirect("web:helper-profile")
