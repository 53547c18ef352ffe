"""Helpers for the tests of staff two-factor: a confirmed authenticator app for a login, and
the code it shows, computed from its secret as the app on a phone would."""

from __future__ import annotations

import time

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from members.models import User
from members.two_factor import totp_device_confirm, totp_device_start


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the app shows now (or `steps_ahead` steps of 30 seconds later, still accepted:
    a device refuses a code of a step it has already accepted)."""
    device.refresh_from_db()
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return f"{value:0{device.digits}d}"


def set_up_two_factor(user: User) -> tuple[TOTPDevice, list[str]]:
    """Two-factor on for this login, as the set-up page does: its device and recovery codes."""
    device = totp_device_start(user=user)
    codes = totp_device_confirm(user=user, device=device, code=code_for(device))
    device.refresh_from_db()
    return device, codes


def next_code(device: TOTPDevice) -> str:
    """A code the device has not yet accepted: the next step's (within its tolerance)."""
    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step)
    return code_for(device, steps_ahead=max(1, device.last_t - now_step + 1))
