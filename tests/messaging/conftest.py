"""The local fakes of Twilio and GOV.UK Notify, each on a free loopback port in a thread, with
Circle's settings pointed at it, and the ways to post their delivery receipts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from members.models import Member
from messaging import notify_local, twilio_local
from messaging.notify_local import LocalNotify
from messaging.twilio_local import LocalTwilio

TWILIO_STATUS_PATH = "/api/v1/sms/twilio/status/"
NOTIFY_STATUS_PATH = "/api/v1/sms/notify/status/"
# The public address Twilio is told to call; the test client posts to its path.
TWILIO_CALLBACK_URL = f"https://circle.example.org{TWILIO_STATUS_PATH}"


@pytest.fixture
def twilio(settings: Any) -> Iterator[LocalTwilio]:
    with twilio_local.local_twilio() as state:
        settings.SMS_BACKEND = "messaging.backends.TwilioBackend"
        settings.TWILIO_API_BASE = state.base_url
        settings.TWILIO_ACCOUNT_SID = state.account_sid
        settings.TWILIO_AUTH_TOKEN = state.auth_token
        settings.TWILIO_FROM = "+447700900999"
        settings.TWILIO_STATUS_CALLBACK_URL = TWILIO_CALLBACK_URL
        yield state


@pytest.fixture
def notify(settings: Any) -> Iterator[LocalNotify]:
    with notify_local.local_notify() as state:
        settings.SMS_BACKEND = "messaging.backends.NotifyBackend"
        settings.NOTIFY_API_BASE = state.base_url
        settings.NOTIFY_API_KEY = notify_local.API_KEY
        settings.NOTIFY_SMS_TEMPLATE_ID = notify_local.TEMPLATE_ID
        settings.NOTIFY_CALLBACK_TOKEN = state.callback_token
        yield state


def twilio_receipt(
    state: LocalTwilio, sid: str, status: str, *, error_code: str = "", signature: str | None = None
) -> Any:
    """POST the status callback Twilio would send, signed (or with `signature` instead)."""
    url, fields, signed = state.receipt(sid, status, error_code=error_code)
    assert url == TWILIO_CALLBACK_URL
    headers = {} if signature == "" else {"HTTP_X_TWILIO_SIGNATURE": signature or signed}
    return APIClient().post(
        TWILIO_STATUS_PATH,
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def notify_receipt(
    state: LocalNotify, notification_id: str, status: str, *, authorization: str | None = None
) -> Any:
    """POST the callback Notify would send, with its bearer token (or `authorization`)."""
    body, bearer = state.receipt(notification_id, status)
    headers = {} if authorization == "" else {"HTTP_AUTHORIZATION": authorization or bearer}
    return APIClient().post(NOTIFY_STATUS_PATH, body, format="json", **headers)


@pytest.fixture
def followups(client_for: Callable[[Member | None], APIClient]) -> Callable[[Member], list[Any]]:
    """The follow-ups an operator of the member's circle sees, through the API."""

    def read(operator: Member) -> list[Any]:
        response = client_for(operator).get(f"/api/v1/circles/{operator.circle.slug}/followups/")
        assert response.status_code == 200, response.content
        data = response.json()
        return list(data["results"] if isinstance(data, dict) else data)

    return read
