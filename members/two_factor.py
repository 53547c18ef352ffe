"""Staff two-factor sign-in (issue 14): coordinators and operators give a second factor, a code
from an authenticator app (django_otp's TOTP device), or one of ten single-use recovery codes
(its static device), after their password.

`STAFF_TWO_FACTOR` decides how strict it is: "required" (production's default) sends every staff
member without a device to set one up before any staff page, and refuses them a staff API token
until they have; "optional" (a laptop's) lets each turn it on. Either way, staff who have turned
it on give a code at every sign-in, on the pages and for an API token. Members and helpers are
never asked: the second factor guards what staff can do to other people's money and records.

A lost phone is reset by another coordinator of the same circle, never by oneself, with a
reason, audited (`two_factor_reset`). Writes and reads are both here, as for a circle's settings
(members/circle_settings.py): it is one small subject.
"""

from __future__ import annotations

import re
from base64 import b32encode

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from circle.errors import Conflict, Forbidden, InvalidInput
from circle.models import Circle
from members.models import STAFF_ROLES, Member, Role, User
from members.selectors import TWO_FACTOR_RESET, Caller
from members.services import audit_record

REQUIRED = "required"
OPTIONAL = "optional"
# Ten recovery codes, as most services give: enough for a long while without the phone.
RECOVERY_CODES = 10
_TOTP_NAME = "Authenticator app"
_RECOVERY_NAME = "Recovery codes"


# --- Reads ------------------------------------------------------------------------------------


def two_factor_required() -> bool:
    """Whether staff must have two-factor sign-in (the STAFF_TWO_FACTOR setting)."""
    return bool(settings.STAFF_TWO_FACTOR == REQUIRED)


def user_is_staff(user: User) -> bool:
    """Whether this login is an operator or coordinator of any circle (roles are per circle;
    the second factor guards the login, so one staff role anywhere is enough), or the
    installation's own staff, who open the Django admin."""
    if user.is_staff or user.is_superuser:
        return True
    return Role.objects.filter(member__user=user, role__in=STAFF_ROLES).exists()


def two_factor_on(user: User) -> bool:
    """Whether the login has a confirmed authenticator app: two-factor is on for them."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def staff_two_factor_state(user: User) -> tuple[bool, bool]:
    """(is staff, has two-factor on) for a login, in one statement: sign-in asks on every
    attempt."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            staff=Exists(Role.objects.filter(member__user=OuterRef("pk"), role__in=STAFF_ROLES)),
            device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .values_list("staff", "device")
        .first()
    )
    if row is None:
        return (False, False)
    return (bool(row[0]) or user.is_staff or user.is_superuser, bool(row[1]))


def is_verified(user: object) -> bool:
    """Whether the signed-in user gave a second-factor code this session (django_otp's
    OTPMiddleware sets `is_verified` on request.user)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def secret_text(device: TOTPDevice) -> str:
    """The device's secret as an authenticator app takes it typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def staff_list(*, circle: Circle) -> list[Member]:
    """The circle's coordinators and operators with a login, by name, each with `two_factor`
    (whether their login has an authenticator app) and `role_list`."""
    members: list[Member] = list(
        Member.objects.filter(circle=circle, roles__role__in=STAFF_ROLES, user__isnull=False)
        .distinct()
        .select_related("user")
        .annotate(
            two_factor=Exists(
                TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
            )
        )
        .order_by("full_name", "id")
    )
    roles: dict[int, list[str]] = {}
    for member_id, role in Role.objects.filter(
        member__in=members, role__in=STAFF_ROLES
    ).values_list("member_id", "role"):
        roles.setdefault(member_id, []).append(role)
    for member in members:
        member.role_list = sorted(roles.get(member.pk, []))  # type: ignore[attr-defined]
    return members


# --- Checking a code --------------------------------------------------------------------------


def _clean(code: str) -> str:
    """A code as typed, with the spaces and dashes people add taken out."""
    return re.sub(r"[\s-]", "", code or "").lower()


def code_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts `code` for this login (the authenticator app's code, or one of
    the recovery codes, which is used up), or None. Devices are locked while checked
    (select_for_update in django_otp), so one code cannot be spent twice at once, and each
    device slows down repeated wrong codes (django_otp's throttling)."""
    cleaned = _clean(code)
    if not cleaned:
        return None
    with transaction.atomic():
        devices: list[Device] = []
        # The app's codes are 6 numbers; recovery codes are 8 letters and numbers.
        if len(cleaned) == 6 and cleaned.isdigit():
            devices += TOTPDevice.objects.filter(user=user, confirmed=True).select_for_update()
        else:
            devices += StaticDevice.objects.filter(user=user, confirmed=True).select_for_update()
        for device in devices:
            if device.verify_token(cleaned):
                return device
    return None


# --- Writes -----------------------------------------------------------------------------------


def totp_device_start(*, user: User) -> TOTPDevice:
    """A new authenticator app for this login, not yet confirmed: its secret is shown once, and
    it counts only when a code from it is given (`totp_device_confirm`). An unconfirmed one left
    from an earlier try is replaced."""
    if two_factor_on(user):
        raise Conflict("two_factor_on", "Two-factor sign-in is already on for you.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=_TOTP_NAME, confirmed=False)


def totp_device_pending(*, user: User, device_id: int) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first()


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Turn two-factor on with the code the app shows; returns the ten recovery codes, which
    are shown once and stored only as the device's tokens. A wrong code changes nothing
    (400 `otp_invalid`)."""
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user).first()
        if locked is None or locked.confirmed:
            raise Conflict("two_factor_on", "Two-factor sign-in is already on for you.")
        if not _clean(code).isdigit() or not locked.verify_token(_clean(code)):
            raise InvalidInput(
                "otp_invalid",
                "That code is not right. Type the 6 numbers your app shows now.",
                field="code",
            )
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        device.confirmed = True
        return _new_recovery_codes(user)


def recovery_codes_renew(*, user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not two_factor_on(user):
        raise Conflict("two_factor_off", "Two-factor sign-in is not on for you.")
    with transaction.atomic():
        return _new_recovery_codes(user)


def devices_remove(user: User) -> None:
    """The login's authenticator app and recovery codes, and its API token, removed (a reset,
    turning it off, or the login's erasure)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # A staff API token was issued with a code from the app now gone: it goes too, and a new
    # one needs the new app's code.
    Token.objects.filter(user=user).delete()


def two_factor_remove(*, user: User) -> None:
    """Turn one's own two-factor off: only where it is optional."""
    if two_factor_required() and user_is_staff(user):
        raise Forbidden(
            "two_factor_required",
            "Two-factor sign-in is required for staff here, so it cannot be turned off. "
            "If you lost your phone, ask another coordinator to reset it.",
        )
    with transaction.atomic():
        devices_remove(user)


def two_factor_reset(*, circle: Circle, caller: Caller, member: Member, reason: str) -> None:
    """Another coordinator of the circle removes a staff member's authenticator app and
    recovery codes (a lost phone): at their next sign-in they set it up again. Never one's own
    (403 `own_record`: someone with the phone in hand resets nothing); only the circle's staff
    (409 `not_staff`); with a reason, audited."""
    if not caller.is_coordinator or caller.member is None or caller.member.circle_id != circle.pk:
        raise Forbidden("forbidden", "Only the circle's coordinators can reset two-factor.")
    if member.circle_id != circle.pk:
        raise InvalidInput("member_not_found", "No such member.")
    if member.user_id is not None and caller.user is not None and member.user_id == caller.user.pk:
        raise Forbidden(
            "own_record",
            "You cannot reset your own two-factor sign-in; ask another coordinator.",
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason_required", "Say why.", field="reason")
    user = member.user
    if user is None or not Role.objects.filter(member=member, role__in=STAFF_ROLES).exists():
        raise Conflict(
            "not_staff", "Only an operator's or coordinator's two-factor sign-in can be reset."
        )
    with transaction.atomic():
        had = two_factor_on(user)
        devices_remove(user)
        audit_record(
            circle=circle,
            action=TWO_FACTOR_RESET,
            caller=caller,
            member=member,
            reason=reason,
            data={"had_two_factor": had},
        )


def token_code_check(*, user: User, otp: str) -> None:
    """The second factor for an API token (DESIGN.md: `otp` in the token request). Staff with
    two-factor on give a current code (400 `otp_required`, or `otp_invalid`); where it is
    required, staff who have not set it up get no token until they have, on the website, since
    a token is as good as a signed-in session. Members and helpers give none."""
    staff, on = staff_two_factor_state(user)
    if not staff or (not on and not two_factor_required()):
        return
    if not on:
        raise InvalidInput(
            "otp_required",
            "Staff must sign in with two-factor here. Set it up on the website first (sign "
            "in, then follow the steps), then ask again with a code from your app as otp.",
            field="otp",
        )
    if not (otp or "").strip():
        raise InvalidInput(
            "otp_required",
            "Give the 6-number code from your authenticator app (or a recovery code) as otp.",
            field="otp",
        )
    if code_verify(user=user, code=otp) is None:
        raise InvalidInput(
            "otp_invalid",
            "That code is not right. Give the code your app shows now, or a recovery code.",
            field="otp",
        )
