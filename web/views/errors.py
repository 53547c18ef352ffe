"""403, 404 and 500 for the pages, in the pages' style; anything under /api/ keeps answering in
the API's JSON error format."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader

from circle.errors import json_not_found, json_server_error


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return HttpResponse(loader.render_to_string("web/errors/404.html", request=request), status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponse(loader.render_to_string("web/errors/403.html", request=request), status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_server_error(request)
    # No request context: whatever broke may be in it (a context processor, the session).
    return HttpResponse(loader.render_to_string("web/errors/500.html"), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return HttpResponse(
        loader.render_to_string("web/errors/csrf.html", request=request), status=403
    )
