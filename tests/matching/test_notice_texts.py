"""Notices sent as texts through a real gateway (the local Twilio): a text the member does not
get is put on the operators' queue; an offer a helper does not get is left to the next wave."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail

from attention.models import Item, ItemKind
from matching.models import Notice, NoticeKind
from messaging.models import Sms, SmsStatus
from messaging.twilio_local import LocalTwilio, local_twilio
from tests.conftest import Personas
from tests.matching.conftest import book, task_url

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


@pytest.fixture
def twilio(settings: Any, sms_outbox: Any) -> Iterator[LocalTwilio]:
    with local_twilio() as state:
        settings.SMS_BACKEND = "messaging.backends.TwilioBackend"
        settings.TWILIO_API_BASE = state.base_url
        settings.TWILIO_ACCOUNT_SID = state.account_sid
        settings.TWILIO_AUTH_TOKEN = state.auth_token
        settings.TWILIO_FROM = "Circle"
        settings.TWILIO_STATUS_CALLBACK_URL = "https://circle.example.org/api/v1/sms/twilio/status/"
        yield state


def test_a_member_whose_text_is_refused_is_put_on_the_queue_and_still_emailed(
    world: Personas,
    client_for: Client,
    task_body: Body,
    twilio: LocalTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    twilio.refused[world.alice.phone] = 21211
    task = book(client_for(world.alice), task_body())
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.hana).post(task_url(task["id"], "accept"))

    assert response.status_code == 200, response.content
    accepted = Notice.objects.get(kind=NoticeKind.TASK_ACCEPTED)
    assert accepted.sent_at is not None
    assert accepted.channels == ["email"]
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    text = Sms.objects.get(member=world.alice)
    assert (text.status, text.reference, text.task_id) == (
        SmsStatus.FAILED,
        accepted.key,
        task["id"],
    )
    [item] = Item.objects.filter(kind=ItemKind.SMS_UNDELIVERED)
    assert (item.member, item.task_id, item.phone) == (world.alice, task["id"], world.alice.phone)


def test_a_delivered_text_counts_as_sent(
    world: Personas,
    client_for: Client,
    task_body: Body,
    twilio: LocalTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    task = book(client_for(world.alice), task_body())

    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.hana).post(task_url(task["id"], "accept"))

    accepted = Notice.objects.get(kind=NoticeKind.TASK_ACCEPTED)
    assert accepted.channels == ["email", "sms"]
    text = Sms.objects.get(member=world.alice)
    assert text.status == SmsStatus.SENT
    assert twilio.messages[text.provider_id]["to"] == world.alice.phone


def test_an_offer_a_helper_does_not_get_is_not_put_on_the_queue(
    world: Personas,
    client_for: Client,
    task_body: Body,
    twilio: LocalTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    twilio.refused[world.hana.phone] = 21211

    with django_capture_on_commit_callbacks(execute=True):
        book(client_for(world.alice), task_body())

    offer = Notice.objects.get(kind=NoticeKind.TASK_OFFERED, recipient=world.hana)
    assert offer.channels == ["email"]
    text = Sms.objects.get(member=world.hana)
    assert (text.status, text.follow_up) == (SmsStatus.FAILED, False)
    assert not Item.objects.filter(kind=ItemKind.SMS_UNDELIVERED).exists()
