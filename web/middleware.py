from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from circle.errors import DomainError, Forbidden, NotFound, database_unavailable
from web.views import errors


class DomainErrorPages:
    """A page view that meets "not found" or "forbidden" from a scoped lookup shows the pages'
    404 or 403 (another circle's objects are "page not found", DESIGN.md), as the API answers
    its JSON ones. Other refusals are the view's to show on its form. A database that cannot
    be reached is a 503, on a page or in the API's format."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unavailable(exception):
            # A page, or an API view outside DRF: 503 in its format, also with DEBUG on.
            return errors.database_down(request)
        if request.path.startswith("/api/") or not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            return errors.not_found(request, exception)
        if isinstance(exception, Forbidden):
            return errors.forbidden(request, exception)
        return None
