"""The API's authentication where staff must sign in with a second factor
(STAFF_TWO_FACTOR=required): REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES.

The token request (members.two_factor.token_code_check) and the staff pages' gate
(web.views.base) ask for the code; these close the two ways round them. A session that gave
its password but no code (a member of staff who has not set up two-factor yet, sent to do so by
the pages) and a token issued before the installation required two-factor both answer 401
`two_factor_required` for staff. Members and helpers are never asked, and where two-factor is
optional nothing more is read."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from circle.authentication import CsrfSessionAuthentication


def _refusal() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(
        "Staff sign in with two-factor here: set it up, or give your code, on the website first "
        "(and ask for a new API token with a code as otp).",
        code="two_factor_required",
    )


class TwoFactorTokenAuthentication(TokenAuthentication):
    """DRF's token authentication; where two-factor is required, a staff token whose login
    has no authenticator app (one issued before it was required) no longer signs in. A token
    issued since needed a current code (`otp`), so it stands for a verified sign-in."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        # Imported here: DRF imports authentication classes while its own views still load.
        from members.two_factor import staff_two_factor_state, two_factor_required

        if two_factor_required():
            staff, on = staff_two_factor_state(user)
            if staff and not on:
                raise _refusal()
        return user, token


class TwoFactorSessionAuthentication(CsrfSessionAuthentication):
    """The session authentication (its CSRF refusal under `csrf_failed`); where two-factor is
    required, a staff session that has not given a code (django_otp's `is_verified`) is
    refused, as the staff pages refuse it."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        from members.two_factor import is_verified, staff_two_factor_state, two_factor_required

        if two_factor_required() and not is_verified(found[0]):
            staff, _on = staff_two_factor_state(found[0])
            if staff:
                raise _refusal()
        return found
