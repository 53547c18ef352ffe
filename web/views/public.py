"""Pages for anyone: what Circle is, each circle, the privacy notice and accessibility statement."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from circle.selectors import category_list, circle_get, circle_list
from web.views.base import render_page


def start(request: HttpRequest) -> HttpResponse:
    return render_page(request, "web/public/start.html", {"circles": circle_list()})


def circle_page(request: HttpRequest, slug: str) -> HttpResponse:
    circle = circle_get(slug=slug)
    request.circle = circle  # type: ignore[attr-defined]
    return render_page(
        request,
        "web/public/circle.html",
        {
            "categories": category_list(circle=circle),
            "join_href": reverse("web:join", args=[circle.slug]),
        },
    )


def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice: what is kept, why and for how long, with this installation's own
    retention settings (payments/services/retention.py applies them)."""
    return render_page(
        request,
        "web/public/privacy.html",
        {
            "retention_years": settings.RETENTION_YEARS,
            "retention_notice_days": settings.RETENTION_NOTICE_DAYS,
        },
    )


def accessibility(request: HttpRequest) -> HttpResponse:
    return render_page(request, "web/public/accessibility.html")
