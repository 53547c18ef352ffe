"""Notifications: the best few eligible helpers are told of a new task by email and text, the
next few when nobody accepts in time; the member is told of the accept and the completion; and
a duplicated job never sends anything twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from circle.models import Circle
from matching import tasks
from matching.models import Notice, NoticeKind, Task
from tests.conftest import Personas
from tests.matching.conftest import book, new_helper, task_url

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


@pytest.fixture
def crowd(world: Personas) -> list[Any]:
    """Four eligible helpers besides Hana, each a little further from Alice."""
    return [
        new_helper(
            world,
            name,
            latitude=Decimal("51.50218") + Decimal("0.005") * (i + 1),
            phone=f"+4477009001{i:02d}",
        )
        for i, name in enumerate(["Ivy", "Jo", "Kit", "Lee"])
    ]


def _offered(task_id: int) -> list[int]:
    return list(
        Notice.objects.filter(task_id=task_id, kind=NoticeKind.TASK_OFFERED)
        .order_by("id")
        .values_list("recipient_id", flat=True)
    )


def test_booking_tells_the_best_three_then_the_next_wave(
    world: Personas,
    crowd: list[Any],
    client_for: Client,
    task_body: Body,
    sms_outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    Circle.objects.filter(pk=world.southwark.pk).update(offer_wave_minutes=90)
    with django_capture_on_commit_callbacks(execute=True):
        task = book(client_for(world.alice), task_body())

    # Hana (next door), then Ivy and Jo, by distance.
    first_wave = [world.hana.pk, crowd[0].member_id, crowd[1].member_id]
    assert _offered(task["id"]) == first_wave
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["hana@example.org", "ivy@example.org", "jo@example.org"]
    )
    assert len(sms_outbox) == 3
    link = f"{settings.SITE_URL}/helper/tasks/{task['id']}/"
    for message in [*(m.body for m in mail.outbox), *(s.body for s in sms_outbox)]:
        assert "SE1" in message
        assert message.endswith(f"To accept: {link}")
        assert world.alice.address_line1 not in message
        assert world.alice.phone not in message
    # A text stays short: two SMS parts at most (153 characters each).
    assert all(len(s.body) <= 306 for s in sms_outbox)
    notices = Notice.objects.filter(task_id=task["id"])
    assert all(n.sent_at is not None and n.channels == ["email", "sms"] for n in notices)

    # Before the circle's wave time (90 minutes, set by its coordinator) is up the periodic job
    # sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.offer_waves_due.delay().get() == 0
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=89), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.offer_waves_due.delay().get() == 0
    later = timezone.now() + timedelta(minutes=91)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.offer_waves_due.delay().get() == 2
        assert tasks.offer_waves_due.delay().get() == 0  # the next wave is not due yet
    assert _offered(task["id"]) == [*first_wave, crowd[2].member_id, crowd[3].member_id]
    assert len(mail.outbox) == 5
    # A wave later nobody is left to tell: the waves stop.
    with (
        time_machine.travel(later + (later - timezone.now()), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.offer_waves_due.delay().get() == 0
    assert Task.objects.get(pk=task["id"]).next_offer_at is None
    assert len(mail.outbox) == 5


def test_a_duplicated_job_sends_nothing_twice(
    world: Personas,
    crowd: list[Any],
    client_for: Client,
    task_body: Body,
    sms_outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        task = book(client_for(world.alice), task_body())
    sent_mail, sent_sms = len(mail.outbox), len(sms_outbox)
    notice_ids = list(Notice.objects.values_list("id", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        for notice_id in notice_ids:
            assert tasks.send_notice.delay(notice_id).get() is False
        assert tasks.offer_task.delay(task["id"]).get() == 0

    assert (len(mail.outbox), len(sms_outbox)) == (sent_mail, sent_sms)
    assert Notice.objects.count() == len(notice_ids)


def test_the_member_hears_of_the_accept_and_the_completion_once(
    world: Personas,
    client_for: Client,
    task_body: Body,
    sms_outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())  # (its offers are not captured here)

    with django_capture_on_commit_callbacks(execute=True):
        hana.post(task_url(task["id"], "accept"))
        hana.post(task_url(task["id"], "accept"))  # a repeat: no second message
    to_alice = [m for m in mail.outbox if m.to == ["alice@example.org"]]
    assert len(to_alice) == 1
    assert "Hana" in to_alice[0].subject
    assert [s.to for s in sms_outbox] == [world.alice.phone]

    with django_capture_on_commit_callbacks(execute=True):
        hana.post(task_url(task["id"], "complete"), {"minutes": 45}, format="json")
        hana.post(task_url(task["id"], "complete"), {"minutes": 45}, format="json")
    to_alice = [m for m in mail.outbox if m.to == ["alice@example.org"]]
    assert len(to_alice) == 2
    assert "45 minutes" in to_alice[1].body
    kinds = list(
        Notice.objects.filter(recipient=world.alice).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == [NoticeKind.TASK_ACCEPTED, NoticeKind.TASK_COMPLETED]


def test_a_handed_back_task_is_offered_to_the_next_helpers(
    world: Personas,
    crowd: list[Any],
    client_for: Client,
    task_body: Body,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.MATCHING_OFFER_WAVE_SIZE = 1
    with django_capture_on_commit_callbacks(execute=True):
        task = book(client_for(world.alice), task_body())
    assert _offered(task["id"]) == [world.hana.pk]
    hana = client_for(world.hana)
    hana.post(task_url(task["id"], "accept"))

    with django_capture_on_commit_callbacks(execute=True):
        hana.post(task_url(task["id"], "cancel"), {"reason": "Back hurts"}, format="json")

    assert _offered(task["id"]) == [world.hana.pk, crowd[0].member_id]


def test_the_link_in_a_notice_is_the_helpers_task_page(settings: Any) -> None:
    """matching builds the link itself (it never imports web): it must be the page's address."""
    from django.urls import reverse

    from matching.notify import helper_task_url

    settings.SITE_URL = "https://circle.example.org"
    task = Task(pk=17)
    assert helper_task_url(task) == "https://circle.example.org" + reverse(
        "web:helper-task", args=[17]
    )


def test_the_console_backend_prints_texts(capsys: Any, settings: Any) -> None:
    from circle.sms import send_sms

    settings.SMS_BACKEND = "circle.sms.ConsoleBackend"
    send_sms(to="+447700900001", body="Hello")

    assert "SMS to +447700900001: Hello" in capsys.readouterr().out


def test_the_helper_is_told_when_the_member_cancels_their_task(
    world: Personas,
    client_for: Client,
    task_body: Body,
    sms_outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = client_for(world.alice)
    task = book(alice, task_body())
    client_for(world.hana).post(task_url(task["id"], "accept"))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        alice.post(task_url(task["id"], "cancel"), {"reason": "My son will do it"}, format="json")
        alice.post(task_url(task["id"], "cancel"), {"reason": "My son will do it"}, format="json")

    (message,) = mail.outbox
    assert message.to == ["hana@example.org"]
    assert "need not go" in message.body
    assert "My son will do it" in message.body
    assert f"http://127.0.0.1:8000/helper/tasks/{task['id']}/" in message.body
    assert world.alice.address_line1 not in message.body
    assert [s.to for s in sms_outbox] == [world.hana.phone]
