"""Staff two-factor sign-in on the pages (members/two_factor.py says what and why).

- `/sign-in/code/`: after the password, staff with two-factor on give a code before they are
  signed in at all: until then the session holds only who is half-way (`PENDING`), for a few
  minutes. A signed-in staff member not yet verified this session (a session from before they
  set it up) gives it here too.
- `/account/two-factor/`: set it up (a QR code and the secret as text, confirmed with a code,
  then the recovery codes shown once), see it, make new recovery codes, turn it off where that
  is allowed.
- Where it is required, every staff page sends staff without it to set it up, and staff not yet
  verified to the code page (web/views/base.py, `two_factor_gate`).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from circle.errors import DomainError, lockout_response
from members.models import User
from members.two_factor import (
    code_verify,
    is_verified,
    recovery_codes_left,
    recovery_codes_renew,
    secret_text,
    totp_device_confirm,
    totp_device_pending,
    totp_device_start,
    two_factor_on,
    two_factor_remove,
    two_factor_required,
    user_is_staff,
)
from web.forms_two_factor import CodeForm
from web.views.base import form_error, landing_for, render_page, with_next

P = ParamSpec("P")

# Who has given the right password and not yet the code: {"user", "backend", "next", "at"}.
PENDING = "two_factor_pending"
# How long the code page waits for the code after the password (seconds).
PENDING_SECONDS = 600
# The authenticator app being set up, until a code from it confirms it.
SETTING_UP = "two_factor_setting_up"


def safe_next(request: HttpRequest, value: str | None) -> str:
    """`next` if it is an address on this site, else ""."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def sign_in_pending(request: HttpRequest, user: User, *, backend: str, next_url: str) -> None:
    """The password was right and the code is still to come (SignInView calls this)."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": backend,
        "next": next_url,
        "at": int(time.time()),
    }


def _pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None, {}
    if time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, {"expired": True}
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None, {}
    return User.objects.filter(pk=user_id, is_active=True).first(), pending


@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, for staff with two-factor on."""
    user: User | None
    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        user, pending = request.user, {"next": safe_next(request, request.GET.get("next"))}
        if is_verified(user):
            return redirect(pending["next"] or landing_for(user))
        if not two_factor_on(user):
            return redirect(with_next("web:two-factor-set-up", pending["next"]))
    else:
        user, pending = _pending_user(request)
        if user is None:
            if pending.get("expired"):
                messages.info(request, _("Please sign in again: it took longer than 10 minutes."))
            return redirect("web:sign-in")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = code_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            if not request.user.is_authenticated:
                auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            request.session.pop(PENDING, None)
            if device.persistent_id.startswith("otp_static"):
                left = recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "You used a recovery code: %(left)s are left. If you lost your phone, "
                        "ask another coordinator to reset your two-factor sign-in."
                    )
                    % {"left": left},
                )
            return redirect(pending["next"] or landing_for(user))
        # A wrong code counts as a failed sign-in, as a wrong password does (django-axes).
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        if getattr(request, "axes_locked_out", False):
            request.session.pop(PENDING, None)
            return lockout_response(request)
        form_error(
            form,
            DomainError(
                "otp_invalid",
                _("That code is not right. Type the code your app shows now, or a recovery code."),
                field="code",
            ),
        )
    return render_page(request, "web/auth/sign_in_code.html", {"form": form})


def staff_account(
    view: Callable[Concatenate[HttpRequest, User, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """The two-factor pages: staff only (anyone else is told the page is not for them); staff
    with it on give their code this session before they change anything."""

    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        user = request.user
        assert isinstance(user, User)
        if not user_is_staff(user):
            return render_page(request, "web/errors/403.html", status=403)
        return view(request, user, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _needs_code(request: HttpRequest, user: User) -> HttpResponse | None:
    if two_factor_on(user) and not is_verified(user):
        return redirect(with_next("web:sign-in-code", request.get_full_path()))
    return None


@require_http_methods(["GET"])
@staff_account
def account(request: HttpRequest, user: User) -> HttpResponse:
    if (answer := _needs_code(request, user)) is not None:
        return answer
    return render_page(
        request,
        "web/account/two_factor.html",
        {
            "on": two_factor_on(user),
            "required": two_factor_required(),
            "codes_left": recovery_codes_left(user),
            "back": landing_for(user),
        },
    )


def _qr_data_uri(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@require_http_methods(["GET", "POST"])
@staff_account
def set_up(request: HttpRequest, user: User) -> HttpResponse:
    next_url = safe_next(request, request.GET.get("next"))
    if two_factor_on(user):
        return redirect(next_url or "web:two-factor")
    device = totp_device_pending(user=user, device_id=request.session.get(SETTING_UP, 0))
    if device is None:
        # A fresh secret only when there is none being set up: reloading the page must not
        # change the secret someone has just scanned.
        device = totp_device_start(user=user)
        request.session[SETTING_UP] = device.pk
    form = CodeForm(request.POST if request.method == "POST" else None, recovery=False)
    if request.method == "POST" and form.is_valid():
        try:
            codes = totp_device_confirm(user=user, device=device, code=form.cleaned_data["code"])
        except DomainError as error:
            form_error(form, error)
        else:
            request.session.pop(SETTING_UP, None)
            # The code just given verifies this session: no second code straight away.
            otp_login(request, device)
            return render_page(
                request,
                "web/account/recovery_codes.html",
                {"codes": codes, "next": next_url or landing_for(user), "first": True},
            )
    return render_page(
        request,
        "web/account/two_factor_set_up.html",
        {
            "form": form,
            "qr": _qr_data_uri(device),
            "secret": secret_text(device),
            "required": two_factor_required(),
            "back": landing_for(user),
        },
    )


@require_POST
@staff_account
def recovery_codes(request: HttpRequest, user: User) -> HttpResponse:
    if (answer := _needs_code(request, user)) is not None:
        return answer
    try:
        codes = recovery_codes_renew(user=user)
    except DomainError:
        return redirect("web:two-factor")
    return render_page(
        request,
        "web/account/recovery_codes.html",
        {"codes": codes, "next": reverse("web:two-factor"), "first": False},
    )


@require_http_methods(["GET", "POST"])
@staff_account
def remove(request: HttpRequest, user: User) -> HttpResponse:
    if (answer := _needs_code(request, user)) is not None:
        return answer
    if two_factor_required() or not two_factor_on(user):
        return redirect("web:two-factor")
    if request.method == "POST":
        two_factor_remove(user=user)
        messages.success(request, _("Two-factor sign-in is off."))
        return redirect("web:two-factor")
    return render_page(request, "web/account/two_factor_remove.html", {})
