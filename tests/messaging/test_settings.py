"""Production refuses to start with a text gateway half set up."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.api.test_settings import check_deploy


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    """What production needs besides a text gateway (as in tests/api/test_settings.py)."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48)[:64],
        "ALLOWED_HOSTS": "circle.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "SITE_URL": "https://circle.example.org",
    }


TWILIO = {
    "SMS_BACKEND": "messaging.backends.TwilioBackend",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "twilio-auth-token",
    "TWILIO_FROM": "+447700900999",
    "TWILIO_STATUS_CALLBACK_URL": "https://circle.example.org/api/v1/sms/twilio/status/",
}
NOTIFY = {
    "SMS_BACKEND": "messaging.backends.NotifyBackend",
    "NOTIFY_API_KEY": "circle-" + "a" * 36 + "-" + "b" * 36,
    "NOTIFY_SMS_TEMPLATE_ID": "f0e1d2c3-b4a5-4968-8776-655443322110",
    "NOTIFY_CALLBACK_TOKEN": "a-long-callback-token",
}


@pytest.mark.parametrize("gateway", [TWILIO, NOTIFY], ids=["twilio", "notify"])
def test_production_starts_with_a_whole_gateway(
    production: dict[str, str], gateway: dict[str, str]
) -> None:
    result = check_deploy({**production, **gateway})

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("gateway", "left_out"),
    [(TWILIO, name) for name in TWILIO if name != "SMS_BACKEND"]
    + [(NOTIFY, name) for name in NOTIFY if name != "SMS_BACKEND"],
)
def test_production_refuses_half_a_gateway(
    production: dict[str, str], gateway: dict[str, str], left_out: str
) -> None:
    env = {k: v for k, v in {**production, **gateway}.items() if k != left_out}

    result = check_deploy(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert left_out in result.stderr.splitlines()[-1]


def test_production_refuses_a_notify_callback_token_too_short_to_be_secret(
    production: dict[str, str],
) -> None:
    result = check_deploy({**production, **NOTIFY, "NOTIFY_CALLBACK_TOKEN": "short"})

    assert result.returncode != 0
    assert "NOTIFY_CALLBACK_TOKEN" in result.stderr.splitlines()[-1]
