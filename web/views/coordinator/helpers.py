"""The coordinators' helpers: the list (those waiting for checks first), a helper's record
(work, ratings, checks and when they fall due, suspension), recording the checks, and suspending
or reinstating with a reason on a page that asks for it.

Each action posts to its own address and goes back to the helper's record, which says what
changed; a refusal comes back on the form that was sent, beside its field.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from circle.errors import DomainError, NotFound
from circle.models import Circle, VettingLevel
from helpers.models import Helper
from helpers.selectors import (
    HelperShow,
    dbs_due,
    dbs_due_soon,
    helper_check_list,
    helper_desk_counts,
    helper_desk_list,
    helper_get,
    helper_suspension_history,
)
from helpers.services import helper_suspension_set, helper_vetting_record
from matching.selectors import LOW_RATING, helper_recent_feedback, helper_work
from web.forms_coordinator_helpers import ChecksForm, ReasonForm
from web.views.base import coordinator_required, form_error, render_page

# Helpers a page of the list shows. A circle has tens to a few hundred.
PER_PAGE = 50


def _show(request: HttpRequest) -> str:
    show = request.GET.get("show", "")
    return show if show in HelperShow.values else ""


@require_GET
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    show = _show(request)
    today = timezone.localdate()
    counts = helper_desk_counts(circle=circle, today=today)
    paginator = Paginator(helper_desk_list(circle=circle, show=show, today=today), PER_PAGE)
    # The counts above already hold the total: no second COUNT.
    paginator.count = counts[show] if show else counts["all"]
    listed = paginator.get_page(request.GET.get("page"))
    rows = [
        {
            "helper": helper,
            "skills": [row.category.name for row in helper.skill_rows.all()],
            "due": dbs_due(helper.dbs_issued),  # type: ignore[attr-defined]
            "due_soon": helper.vetting_level != VettingLevel.NONE
            and dbs_due_soon(helper.dbs_issued, today=today),  # type: ignore[attr-defined]
        }
        for helper in listed
    ]
    return render_page(
        request,
        "web/coordinator/helpers_list.html",
        {
            "circle": circle,
            "show": show,
            "show_label": HelperShow(show).label if show else "",
            "filters": [
                {"value": value, "label": label, "count": counts[value]}
                for value, label in HelperShow.choices
            ],
            "total": counts["all"],
            "shown": paginator.count,
            "rows": rows,
            "page": listed,
            "query": f"show={show}&" if show else "",
        },
    )


def _helper(circle: Circle, helper_id: int) -> Helper:
    try:
        return helper_get(circle=circle, helper_id=helper_id)
    except NotFound:
        raise Http404 from None


@require_GET
@coordinator_required
def record(request: HttpRequest, circle: Circle, helper_id: int) -> HttpResponse:
    helper = _helper(circle, helper_id)
    checks = helper_check_list(helper=helper)
    latest = checks[0] if checks else None
    issued = latest.dbs_issue_date if latest else None
    today = timezone.localdate()
    due = dbs_due(issued)
    return render_page(
        request,
        "web/coordinator/helpers_record.html",
        {
            "circle": circle,
            "helper": helper,
            "skills": [row.category.name for row in helper.skill_rows.all()],
            "work": helper_work(helper=helper),
            "feedback": helper_recent_feedback(helper=helper),
            "low_rating": LOW_RATING,
            "checks": checks,
            "latest": latest,
            "due": due,
            "due_soon": helper.vetting_level != VettingLevel.NONE
            and dbs_due_soon(issued, today=today),
            "overdue": due is not None and due < today,
            "history": helper_suspension_history(helper=helper),
        },
    )


@require_http_methods(["GET", "POST"])
@coordinator_required
def checks(request: HttpRequest, circle: Circle, helper_id: int) -> HttpResponse:
    helper = _helper(circle, helper_id)
    if request.method != "POST":
        return _checks_page(request, circle, helper, ChecksForm())
    form = ChecksForm(request.POST)
    if form.is_valid():
        values = form.cleaned_data
        try:
            vetted = helper_vetting_record(
                helper=helper,
                caller=request.caller,  # type: ignore[attr-defined]
                identity_checked=values["identity_checked"],
                references_checked=values["references_checked"],
                dbs_level=values["dbs_level"],
                dbs_certificate_number=values["dbs_certificate_number"],
                dbs_issue_date=values["dbs_issue_date"],
                original_seen_by=values["original_seen_by"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _level_words(helper, vetted.vetting_level))
            return redirect("web:coordinator-helper", circle.slug, helper.pk)
    return _checks_page(request, circle, helper, form)


def _level_words(helper: Helper, level: str) -> str:
    name = helper.member.full_name
    if level == VettingLevel.NONE:
        return _(
            "Checks recorded. %(name)s's vetting level is None: they cannot take tasks until "
            "their identity and references are checked."
        ) % {"name": name}
    return _("Checks recorded. %(name)s's vetting level is now %(level)s.") % {
        "name": name,
        "level": VettingLevel(level).label,
    }


def _checks_page(
    request: HttpRequest, circle: Circle, helper: Helper, form: ChecksForm
) -> HttpResponse:
    return render_page(
        request,
        "web/coordinator/helpers_checks.html",
        {"circle": circle, "helper": helper, "form": form},
    )


def _suspension(
    request: HttpRequest, circle: Circle, helper_id: int, *, suspend: bool
) -> HttpResponse:
    helper = _helper(circle, helper_id)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            helper_suspension_set(
                helper=helper,
                caller=request.caller,  # type: ignore[attr-defined]
                suspended=suspend,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            name = helper.member.full_name
            messages.success(
                request,
                _("%(name)s is suspended: they are offered no tasks and can take none.")
                % {"name": name}
                if suspend
                else _("%(name)s is reinstated: they can take tasks again.") % {"name": name},
            )
            return redirect("web:coordinator-helper", circle.slug, helper.pk)
    return render_page(
        request,
        "web/coordinator/helpers_suspension.html",
        {"circle": circle, "helper": helper, "form": form, "suspend": suspend},
    )


@require_http_methods(["GET", "POST"])
@coordinator_required
def suspend(request: HttpRequest, circle: Circle, helper_id: int) -> HttpResponse:
    return _suspension(request, circle, helper_id, suspend=True)


@require_http_methods(["GET", "POST"])
@coordinator_required
def reinstate(request: HttpRequest, circle: Circle, helper_id: int) -> HttpResponse:
    return _suspension(request, circle, helper_id, suspend=False)
