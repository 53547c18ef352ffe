"""Texts through Twilio, against the local fake of its REST API over real HTTP, and Twilio's
signed delivery receipts."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from attention.models import Item, ItemKind
from messaging.models import Sms, SmsStatus
from messaging.services import sms_send
from messaging.twilio_local import LocalTwilio
from tests.conftest import Personas
from tests.messaging.conftest import twilio_receipt

pytestmark = pytest.mark.django_db


def _sent_params(state: LocalTwilio) -> dict[str, str]:
    [request] = [r for r in state.requests if r.method == "POST"]
    return dict(parse_qsl(request.body))


def test_a_text_goes_through_twilio_and_is_recorded_with_its_sid(
    personas: Personas, twilio: LocalTwilio
) -> None:
    sms = sms_send(member=personas.alice, body="Hana will help on Tuesday.", reference="r:1")

    assert sms is not None
    assert sms.status == SmsStatus.SENT
    assert sms.provider == "twilio"
    assert sms.provider_id in twilio.messages
    assert sms.provider_id.startswith("SM")
    params = _sent_params(twilio)
    assert params == {
        "To": "+447700900001",
        "From": "+447700900999",
        "Body": "Hana will help on Tuesday.",
        "StatusCallback": "https://circle.example.org/api/v1/sms/twilio/status/",
    }
    auth = twilio.requests[0].headers["authorization"]
    assert base64.b64decode(auth.removeprefix("Basic ")).decode() == (
        f"{twilio.account_sid}:{twilio.auth_token}"
    )


def test_a_messaging_service_is_sent_as_one(
    personas: Personas, twilio: LocalTwilio, settings: Any
) -> None:
    settings.TWILIO_FROM = "MG" + "a" * 32

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.SENT
    params = _sent_params(twilio)
    assert params["MessagingServiceSid"] == "MG" + "a" * 32
    assert "From" not in params


def test_a_member_without_a_phone_is_not_texted(personas: Personas, twilio: LocalTwilio) -> None:
    personas.alice.phone = ""

    assert sms_send(member=personas.alice, body="Hello") is None
    assert twilio.requests == []
    assert Sms.objects.count() == 0


def test_a_signed_delivered_receipt_marks_the_text_delivered(
    personas: Personas, twilio: LocalTwilio
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None

    response = twilio_receipt(twilio, sms.provider_id, "delivered")

    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "outcome": "delivered"}
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED
    assert sms.delivered_at is not None
    assert sms.provider_status == "delivered"
    assert not Item.objects.exists()


def test_an_undelivered_text_to_a_member_is_put_on_the_queue_once(
    personas: Personas, twilio: LocalTwilio, followups: Callable[..., list[Any]]
) -> None:
    sms = sms_send(member=personas.alice, body="Hana will help on Tuesday.", task_id=17)
    assert sms is not None

    first = twilio_receipt(twilio, sms.provider_id, "undelivered", error_code="30005")
    again = twilio_receipt(twilio, sms.provider_id, "undelivered", error_code="30005")
    late = twilio_receipt(twilio, sms.provider_id, "failed", error_code="30008")

    assert first.json()["outcome"] == "failed"
    assert again.json()["outcome"] == "unchanged"
    assert late.json()["outcome"] == "unchanged"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED
    assert sms.provider_status == "undelivered"
    assert "no longer in use" in sms.error
    [item] = Item.objects.all()
    assert (item.kind, item.cause, item.task_id) == (ItemKind.SMS_UNDELIVERED, f"sms:{sms.pk}", 17)
    [seen] = followups(personas.otto)
    assert seen["member_id"] == personas.alice.pk
    assert seen["phone"] == "+447700900001"
    assert seen["kind"] == "sms_undelivered"
    assert "Hana will help on Tuesday." in seen["note"]
    assert "no longer in use" in seen["note"]


def test_a_delivered_text_stays_delivered_whatever_comes_later(
    personas: Personas, twilio: LocalTwilio
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None
    twilio_receipt(twilio, sms.provider_id, "delivered")

    for status in ("sent", "undelivered"):
        assert twilio_receipt(twilio, sms.provider_id, status).json()["outcome"] == "unchanged"

    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED
    assert not Item.objects.exists()


def test_a_passing_status_is_noted_and_changes_nothing_else(
    personas: Personas, twilio: LocalTwilio
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None

    response = twilio_receipt(twilio, sms.provider_id, "sent")

    assert response.json()["outcome"] == "unchanged"
    sms.refresh_from_db()
    assert (sms.status, sms.provider_status) == (SmsStatus.SENT, "sent")


def test_an_undelivered_text_marked_not_to_follow_up_raises_nothing(
    personas: Personas, twilio: LocalTwilio
) -> None:
    sms = sms_send(member=personas.hana, body="Can you help?", follow_up=False)
    assert sms is not None

    twilio_receipt(twilio, sms.provider_id, "undelivered", error_code="30003")

    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    "signature",
    ["", "bm90IHRoZSBzaWduYXR1cmU=", "forged"],
    ids=["unsigned", "wrong", "garbage"],
)
def test_a_receipt_without_twilios_signature_is_refused(
    personas: Personas, twilio: LocalTwilio, signature: str
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None

    response = twilio_receipt(twilio, sms.provider_id, "undelivered", signature=signature)

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT
    assert not Item.objects.exists()


def test_a_receipt_signed_for_other_fields_is_refused(
    personas: Personas, twilio: LocalTwilio
) -> None:
    """A real signature for "delivered" does not carry "undelivered" with it."""
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None
    _, _, delivered_signature = twilio.receipt(sms.provider_id, "delivered")

    response = twilio_receipt(twilio, sms.provider_id, "undelivered", signature=delivered_signature)

    assert response.status_code == 403
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT


def test_a_receipt_signed_with_another_auth_token_is_refused(
    personas: Personas, twilio: LocalTwilio, settings: Any
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None
    settings.TWILIO_AUTH_TOKEN = "a-different-token"

    response = twilio_receipt(twilio, sms.provider_id, "undelivered")

    assert response.status_code == 403


def test_a_receipt_for_an_unknown_message_is_taken_and_changes_nothing(
    personas: Personas, twilio: LocalTwilio
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None
    Sms.objects.filter(pk=sms.pk).update(provider_id="SM" + "0" * 32)

    response = twilio_receipt(twilio, sms.provider_id, "undelivered")

    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown"
    assert not Item.objects.exists()


def test_a_number_twilio_refuses_is_recorded_failed_and_followed_up(
    personas: Personas, twilio: LocalTwilio
) -> None:
    twilio.refused["+447700900001"] = 21610  # Alice texted STOP

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert sms.provider == "twilio"
    assert sms.provider_id == ""
    assert "21610" in sms.error
    assert sms.failed_at is not None
    [item] = Item.objects.all()
    assert (item.member, item.kind, item.cause) == (
        personas.alice,
        ItemKind.SMS_UNDELIVERED,
        f"sms:{sms.pk}",
    )


@pytest.mark.parametrize("status", [500, 503, 401])
def test_a_failing_twilio_is_recorded_not_raised(
    personas: Personas, twilio: LocalTwilio, status: int, caplog: Any
) -> None:
    twilio.failures.append(status)

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert f"HTTP {status}" in sms.error
    assert Item.objects.filter(kind=ItemKind.SMS_UNDELIVERED).count() == 1
    assert "failed" in caplog.text


def test_wrong_credentials_are_a_failed_text(
    personas: Personas, twilio: LocalTwilio, settings: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert "20003" in sms.error


def test_an_unreachable_twilio_is_a_failed_text(personas: Personas, settings: Any) -> None:
    settings.SMS_BACKEND = "messaging.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM = "+447700900999"
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # the discard port: nothing listens

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert "could not reach Twilio" in sms.error
    assert Item.objects.count() == 1


def test_an_unconfigured_twilio_is_a_failed_text(personas: Personas, settings: Any) -> None:
    settings.SMS_BACKEND = "messaging.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = ""

    sms = sms_send(member=personas.alice, body="Hello")

    assert sms is not None
    assert sms.status == SmsStatus.FAILED
    assert "not configured" in sms.error
