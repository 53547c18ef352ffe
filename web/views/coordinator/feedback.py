"""PLACEHOLDER: replaced by the branch that builds this page (issue 13)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from circle.models import Circle
from web.views.base import coordinator_required, render_page


@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    return render_page(
        request, "web/coordinator/placeholder.html", {"circle": circle, "title": "Feedback"}
    )
