"""403, 404 and 500 for the pages, in the pages' style; anything under /api/ keeps answering in
the API's JSON error format."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

from circle.errors import (
    database_unavailable,
    json_bad_request,
    json_csrf_failure,
    json_database_unavailable,
    json_not_found,
    json_server_error,
)


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's own 400 (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a bad Host): JSON under /api/
    (413 for a body too large), Django's plain page elsewhere."""
    if _api(request):
        return json_bad_request(request, exception)
    return defaults.bad_request(request, exception or Exception())


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return HttpResponse(loader.render_to_string("web/errors/404.html", request=request), status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponse(loader.render_to_string("web/errors/403.html", request=request), status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this handler while handling the exception, so it is still at hand: one that
    # escaped a middleware (the session saved after a view, say) rather than a view.
    if database_unavailable(sys.exc_info()[1]):
        return database_down(request)
    if request.path.startswith("/api/"):
        return json_server_error(request)
    # No request context: whatever broke may be in it (a context processor, the session).
    return HttpResponse(loader.render_to_string("web/errors/500.html"), status=500)


def database_down(request: HttpRequest) -> HttpResponse:
    """503: the database cannot be reached just now. Rendered without the request's context,
    which needs the database (the signed-in person, the session)."""
    if _api(request):
        return json_database_unavailable()
    page = loader.render_to_string("web/errors/503.html")
    return HttpResponse(page, status=503, headers={"Retry-After": "30"})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _api(request):
        # The browsable API's session sign-in is Django's view, behind the CSRF middleware.
        return json_csrf_failure(request, reason)
    return HttpResponse(
        loader.render_to_string("web/errors/csrf.html", request=request), status=403
    )
