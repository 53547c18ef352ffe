"""Who is signing in and from where (django-axes), sign-up limits, and the password rule
Django's validators leave out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from circle.errors import InvalidInput
from circle.services import phone_e164


def login_username(request: Any, credentials: dict[str, Any] | None) -> str | None:
    """The email or mobile number a sign-in names, as django-axes counts failures by it: an
    email lower-cased, as emails are stored, so "Alice@" and "alice@" are one person's
    attempts; a mobile number as E.164, so "07700 900123" and "+447700900123" are too."""
    source = credentials if credentials is not None else getattr(request, "POST", {})
    value = source.get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    if value and "@" not in value:
        try:
            return phone_e164(value)
        except InvalidInput:
            pass
    return value


def client_ip(request: HttpRequest | Request) -> str | None:
    """The caller's address, for login limits.

    Behind our own proxy (TRUST_X_FORWARDED), the proxy replaces X-Forwarded-For with the
    address it saw (deploy/nginx/circle.conf), so its first entry is the client. Without a
    proxy the header is the client's own words and is ignored: anyone could send a fresh
    address with every guess and never be locked out.
    """
    if settings.TRUST_X_FORWARDED:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.META.get("REMOTE_ADDR")


class AnonymousSignupThrottle(SimpleRateThrottle):
    """Limits sign-ups by people not signed in, per address (SIGNUP_THROTTLE_RATE): each one
    makes a login, so a script could otherwise fill a circle with fake members. Staff
    registering callers on the phone are signed in and never limited."""

    scope = "signup"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.method != "POST" or request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or ""}


class NotOnlySpacesValidator:
    """A password must have something in it besides spaces (AUTH_PASSWORD_VALIDATORS).

    Django's validators let eight spaces through: long enough, not numeric, not a common
    password once stripped, like no one's name. Wherever a password is set (joining, becoming a
    helper, a new password by email, the admin) this refuses one made only of white space."""

    def validate(self, password: str, user: Any = None) -> None:
        if not password.strip():
            raise ValidationError(
                _("Your password cannot be only spaces."), code="password_only_spaces"
            )

    def get_help_text(self) -> str:
        return str(_("Your password cannot be only spaces."))
