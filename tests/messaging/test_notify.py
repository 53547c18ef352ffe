"""Texts through GOV.UK Notify, against the local fake of its API over real HTTP, and Notify's
delivery receipts with their bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from attention.models import Item, ItemKind
from messaging import notify_local
from messaging.models import SmsStatus
from messaging.notify_local import LocalNotify
from messaging.services import sms_send
from tests.conftest import Personas
from tests.messaging.conftest import NOTIFY_STATUS_PATH, notify_receipt

pytestmark = pytest.mark.django_db


def test_a_text_goes_through_notifys_template_and_is_recorded_with_its_id(
    personas: Personas, notify: LocalNotify
) -> None:
    sms = sms_send(member=personas.alice, body="Hana will help on Tuesday.")

    assert sms is not None
    assert (sms.status, sms.provider) == (SmsStatus.SENT, "notify")
    sent = notify.notifications[sms.provider_id]
    assert sent["body"] == "Hana will help on Tuesday."
    assert sent["phone_number"] == "+447700900001"
    [request] = notify.requests
    assert request.status == 201
    assert json.loads(request.body) == {
        "phone_number": "+447700900001",
        "template_id": notify_local.TEMPLATE_ID,
        "personalisation": {"body": "Hana will help on Tuesday."},
    }


def test_a_template_without_the_body_placeholder_is_refused_by_notify(
    personas: Personas, notify: LocalNotify
) -> None:
    """The fake holds Notify's rule: every ((placeholder)) needs its personalisation."""
    notify.templates[notify_local.TEMPLATE_ID] = "((greeting)) ((body))"

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert "Missing personalisation: greeting" in sms.error


def test_a_delivered_receipt_with_the_token_marks_the_text_delivered(
    personas: Personas, notify: LocalNotify
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None

    response = notify_receipt(notify, sms.provider_id, "delivered")

    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "outcome": "delivered"}
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED
    assert not Item.objects.exists()


@pytest.mark.parametrize("status", ["permanent-failure", "temporary-failure", "technical-failure"])
def test_a_failed_text_to_a_member_is_put_on_the_queue_once(
    personas: Personas,
    notify: LocalNotify,
    followups: Callable[..., list[Any]],
    status: str,
) -> None:
    sms = sms_send(member=personas.bob, body="Your helper is on the way.")
    assert sms is not None

    outcomes = [notify_receipt(notify, sms.provider_id, status).json()["outcome"] for _ in "ab"]

    assert outcomes == ["failed", "unchanged"]
    sms.refresh_from_db()
    assert (sms.status, sms.provider_status) == (SmsStatus.FAILED, status)
    [seen] = followups(personas.otto)
    assert (seen["member_id"], seen["kind"], seen["phone"]) == (
        personas.bob.pk,
        "sms_undelivered",
        "+447700900002",
    )
    assert "Your helper is on the way." in seen["note"]
    assert Item.objects.get().cause == f"sms:{sms.pk}"


def test_a_passing_status_leaves_the_text_sent(personas: Personas, notify: LocalNotify) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None

    assert notify_receipt(notify, sms.provider_id, "sending").json()["outcome"] == "unchanged"

    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer not-the-token", "local-notify-callback-token", "Basic bG9jYWw6dG9rZW4="],
    ids=["none", "wrong", "no-scheme", "basic"],
)
def test_a_receipt_without_the_bearer_token_is_refused(
    personas: Personas, notify: LocalNotify, authorization: str
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None

    response = notify_receipt(
        notify, sms.provider_id, "permanent-failure", authorization=authorization
    )

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT
    assert not Item.objects.exists()


def test_receipts_are_refused_when_no_token_is_configured(
    personas: Personas, notify: LocalNotify, settings: Any
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None
    settings.NOTIFY_CALLBACK_TOKEN = ""

    response = notify_receipt(notify, sms.provider_id, "delivered", authorization="Bearer ")

    assert response.status_code == 403


def test_a_receipt_that_is_not_json_is_a_400(notify: LocalNotify, db: None) -> None:
    from rest_framework.test import APIClient

    response = APIClient().post(
        NOTIFY_STATUS_PATH,
        "not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {notify.callback_token}",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_a_number_notify_refuses_is_recorded_failed_and_followed_up(
    personas: Personas, notify: LocalNotify
) -> None:
    personas.alice.phone = "+442079460000"  # a landline: Notify texts only mobiles
    personas.alice.save()

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert "HTTP 400" in sms.error
    assert "Not a UK mobile number" in sms.error
    assert Item.objects.get().kind == ItemKind.SMS_UNDELIVERED


def test_a_key_notify_does_not_accept_is_a_failed_text(
    personas: Personas, notify: LocalNotify, settings: Any
) -> None:
    wrong_secret = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    settings.NOTIFY_API_KEY = f"circle_local-{notify_local.SERVICE_ID}-{wrong_secret}"

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert "HTTP 403" in sms.error
    assert notify.notifications == {}


def test_a_malformed_key_is_a_failed_text_not_a_crash(
    personas: Personas, notify: LocalNotify, settings: Any
) -> None:
    settings.NOTIFY_API_KEY = "short"

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED


@pytest.mark.parametrize("status", [500, 503])
def test_a_failing_notify_is_recorded_not_raised(
    personas: Personas, notify: LocalNotify, status: int
) -> None:
    notify.failures.append(status)

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert f"HTTP {status}" in sms.error
    assert Item.objects.count() == 1


def test_an_unreachable_notify_is_a_failed_text(personas: Personas, settings: Any) -> None:
    settings.SMS_BACKEND = "messaging.backends.NotifyBackend"
    settings.NOTIFY_API_KEY = notify_local.API_KEY
    settings.NOTIFY_SMS_TEMPLATE_ID = notify_local.TEMPLATE_ID
    settings.NOTIFY_API_BASE = "http://127.0.0.1:9"  # the discard port: nothing listens

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert Item.objects.count() == 1


def test_a_receipt_nested_too_deep_is_a_400_like_every_api_body(
    notify: LocalNotify, db: None
) -> None:
    from rest_framework.test import APIClient

    response = APIClient().post(
        NOTIFY_STATUS_PATH,
        "[" * 1000 + "]" * 1000,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {notify.callback_token}",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
