"""The API's authentication classes (REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES).

Its own module, importing nothing of DRF's views: DRF imports these classes while its views
module is still loading."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from circle.messages import message_for_code


class CsrfSessionAuthentication(SessionAuthentication):
    """DRF's session authentication, whose CSRF refusal carries the stable code `csrf_failed`
    and a plain sentence (DRF's own says "CSRF Failed: ..." under the code `forbidden`)."""

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise exceptions.PermissionDenied(
                message_for_code("csrf_failed"), code="csrf_failed"
            ) from None
