"""Domain errors and the one place they become HTTP responses.

Every error body is ``{"code": "<snake_case>", "detail": "<sentence>", "field": "<optional>"}``
(DESIGN.md), where the code is stable for clients to branch on. Services raise the domain
exceptions below; DRF's own exceptions (validation, parsing, authentication) are translated here
too, so no view shapes an error by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from circle.messages import MESSAGES, message_for, message_for_code

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused an operation. Subclasses set the HTTP status."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, detail: str = "Not found.", *, code: str = "not_found") -> None:
        super().__init__(code, detail)


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT


class NotSignedIn(DomainError):
    """Nobody is signed in where someone must be. Answered as DRF answers its own
    NotAuthenticated (the same code, sentence and WWW-Authenticate challenge), so a view may
    check in a selector rather than only through a permission class."""

    status_code = status.HTTP_401_UNAUTHORIZED

    def __init__(
        self,
        detail: str = str(exceptions.NotAuthenticated.default_detail),
        *,
        code: str = "not_authenticated",
    ) -> None:
        super().__init__(code, detail)


def error_body(code: str, detail: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if field:
        body["field"] = field
    return body


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str | None, exceptions.ErrorDetail]]:
    """Walk DRF's nested error structure into (dotted field path, first error) pairs."""
    found: list[tuple[str | None, exceptions.ErrorDetail]] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else key)
            found.extend(_flatten(value, name))
    elif isinstance(detail, Sequence) and not isinstance(detail, str):
        for index, value in enumerate(detail):
            nested = isinstance(value, Mapping | list)
            found.extend(_flatten(value, f"{prefix}[{index}]" if nested else prefix))
    else:
        error = (
            detail
            if isinstance(detail, exceptions.ErrorDetail)
            else exceptions.ErrorDetail(str(detail), code="invalid")
        )
        found.append((prefix or None, error))
    return found


# DRF's parse and validation codes are already stable snake_case; a few read better renamed.
_CODE_NAMES = {
    "parse_error": "malformed_json",
    "not_authenticated": "not_authenticated",
    "authentication_failed": "authentication_failed",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "throttled",
}


# SQLSTATEs that mean the server is going away or not yet back: class 08 (connection exception)
# and the shutdown and start-up ones. A serialisation failure or a lock timeout is not among them.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database cannot be reached (down, restarting, the connection cut)
    rather than that a query went wrong. Such a request answers 503, not 500: nothing was
    half saved (a transaction either committed before the cut or never will), and asking again
    in a moment works, because Django opens a fresh connection on the next request
    (CONN_HEALTH_CHECKS)."""
    if isinstance(exc, InterfaceError):
        return True  # the connection was already closed under us
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    code = getattr(cause, "pgcode", None)
    if code is None:
        # psycopg2 gives no SQLSTATE when it could not connect or the server hung up; SQLite's
        # OperationalError ("database is locked") is not about reaching a server.
        return cause is not None and type(cause).__module__.startswith("psycopg")
    return str(code).startswith("08") or code in _UNAVAILABLE_SQLSTATES


def _database_unavailable_body() -> dict[str, Any]:
    return error_body("database_unavailable", str(MESSAGES[("database_unavailable", None)]))


def json_database_unavailable() -> JsonResponse:
    return JsonResponse(
        _database_unavailable_body(),
        status=503,
        headers={"Retry-After": "30"},
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        return Response(
            _database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "30"},
        )
    if isinstance(exc, NotSignedIn):
        return _not_signed_in(exc, context)
    if isinstance(exc, DomainError):
        # The same plain words the pages show (circle/messages.py), under the stable code.
        return Response(error_body(exc.code, message_for(exc), exc.field), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django raises it when the body is read; left to Django it became its HTML 400 page.
        return Response(body_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        field, first = errors[0] if errors else (None, exceptions.ErrorDetail("Invalid input."))
        body = error_body(str(first.code or "invalid"), _sentence(str(first), field), field)
        if len(errors) > 1:
            body["errors"] = [
                error_body(str(err.code or "invalid"), _sentence(str(err), name), name)
                for name, err in errors
            ]
        return Response(body, status=status.HTTP_400_BAD_REQUEST)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        raw_code = exc.get_codes()
        code = raw_code if isinstance(raw_code, str) else exc.default_code
        code = _CODE_NAMES.get(code, code)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        if code == "malformed_json":
            # DRF's own ParseError names the decoder's complaint; a too-deep body has its code.
            detail = "The request body is not valid JSON."
        response.data = error_body(code, str(detail))
    return response


def _not_signed_in(exc: NotSignedIn, context: dict[str, Any]) -> Response:
    # What APIView.handle_exception does for NotAuthenticated: challenge with the first
    # authentication scheme, or, with none that can challenge, answer 403.
    view, request = context.get("view"), context.get("request")
    challenge = None
    if view is not None and request is not None and hasattr(view, "get_authenticate_header"):
        challenge = view.get_authenticate_header(request)
    body = error_body(exc.code, exc.detail, exc.field)
    if not challenge:
        return Response(body, status=status.HTTP_403_FORBIDDEN)
    return Response(body, status=exc.status_code, headers={"WWW-Authenticate": challenge})


def _sentence(message: str, field: str | None) -> str:
    """DRF says "This field is required."; name the field so the sentence stands alone."""
    if field and message.startswith("This field"):
        return f"{field}: {message}"
    return message


# No endpoint, nothing to protect: without the exemption a POST here without a CSRF token got the
# pages' HTML CSRF failure page (403) instead of the API's 404.
@csrf_exempt
def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "No such endpoint."), status=404)


def body_too_large_body() -> dict[str, Any]:
    return error_body("body_too_large", message_for_code("body_too_large"))


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's own 400s under /api/ (a body over DATA_UPLOAD_MAX_MEMORY_SIZE read outside a DRF
    view, a malformed request): the error format, not Django's HTML page."""
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(body_too_large_body(), status=413)
    return JsonResponse(error_body("bad_request", message_for_code("bad_request")), status=400)


def json_csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """A session-authenticated POST under /api/ without its CSRF token (CSRF_FAILURE_VIEW for
    Django's middleware; `CsrfSessionAuthentication` for DRF's views)."""
    return JsonResponse(error_body("csrf_failed", message_for_code("csrf_failed")), status=403)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "Something went wrong on our side; it has been logged."),
        status=500,
    )


LOCKOUT_DETAIL = "Too many failed sign-ins for this email; try again in {minutes} minutes."


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """What django-axes answers once an email and address are locked out (AXES_LOCKOUT_CALLABLE).

    Axes' own answer is an HTML page, and its middleware puts it in place of whatever the view
    returned, so without this the token endpoint's JSON 429 became HTML. API clients (who send
    JSON) get the error format; the admin's and the browsable API's login forms get a sentence.
    """
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else 15
    detail = LOCKOUT_DETAIL.format(minutes=minutes)
    if request.content_type == "application/json":
        return JsonResponse(error_body("too_many_attempts", detail), status=429)
    page = getattr(settings, "LOCKOUT_PAGE_TEMPLATE", "")
    if page and not request.path.startswith(("/api/", "/admin/")):
        # The pages' own sign-in: a page in their style that says when to try again.
        return render(request, page, {"minutes": minutes}, status=429)
    return HttpResponse(detail, status=429, content_type="text/plain; charset=utf-8")
