"""drf-spectacular's description of our own authentication classes (loaded by CircleConfig)."""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme


class CsrfSessionScheme(SessionScheme):
    """Session authentication with our CSRF refusal is, to a client, session authentication."""

    target_class = "circle.authentication.CsrfSessionAuthentication"
