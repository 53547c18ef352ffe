"""The coordinators' feedback: what members said about their helpers on confirming a task,
newest first, low ratings marked in words, narrowed to one helper or to the low ratings, a page
at a time by keyset (an "Older" link carries where the next page starts), so a page deep in
years of feedback costs what the first does. Each names its helper and links to their record."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from circle.models import Circle
from helpers.selectors import helper_names
from matching.selectors import LOW_RATING, feedback_page
from web.forms_coordinator_helpers import FeedbackFilterForm
from web.views.base import coordinator_required, render_page

PER_PAGE = 25


@require_GET
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    helpers = helper_names(circle=circle)
    form = FeedbackFilterForm(request.GET or None, helpers=helpers)
    values = form.cleaned_data if form.is_valid() else {}
    helper_id = values.get("helper")
    low = bool(values.get("low"))
    after = values.get("after") or ""
    found = feedback_page(
        circle=circle, helper_id=helper_id, low_only=low, after=after, limit=PER_PAGE
    )
    # The filter as query-string pieces, for the paging links to keep it.
    keep = "&".join(
        part
        for part in (f"helper={helper_id}" if helper_id else "", "low=on" if low else "")
        if part
    )
    return render_page(
        request,
        "web/coordinator/feedback.html",
        {
            "circle": circle,
            "filter_form": form if form.is_bound else FeedbackFilterForm(helpers=helpers),
            "rows": found.rows,
            "next_after": found.next_after,
            "paged": bool(after),
            "keep": keep,
            "helper_name": dict(helpers).get(helper_id) if helper_id else "",
            "low": low,
            "low_rating": LOW_RATING,
        },
    )
