"""The notices are an outbox: a booking whose job could not be queued (the broker down) still
answers 201, and the periodic sweep sends every notice its own job never sent, once. The real
broker, stopped and started again, is in tests/faults/; here the queue is a closed port."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from circle.celery import app
from matching import notify, tasks
from matching.models import Notice, NoticeKind, Task
from tests.conftest import Personas
from tests.matching.conftest import book, task_url

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]

LATER = timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS + 1)


def _fresh_pools() -> None:
    # As tests/matching/test_celery_worker.py: forget the connections made to the last broker.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Celery configured for a broker at the discard port, where nothing listens."""
    saved = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url="redis://127.0.0.1:9/0", task_always_eager=False)
    _fresh_pools()
    try:
        yield
    finally:
        app.conf.update(saved)
        _fresh_pools()


def test_a_booking_answers_201_when_the_broker_cannot_be_reached(
    world: Personas,
    client_for: Client,
    task_body: Body,
    broker_down: None,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="circle.queueing"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        task = book(client_for(world.alice), task_body())

    # The first wave's job, which the broker could not take (the others remember the ids of
    # the accounts the hold moved, once committed).
    jobs = [callback for callback in callbacks if callback.__module__ == "circle.queueing"]
    assert len(jobs) == 1
    assert "could not queue matching.tasks.offer_task" in caplog.text
    # The wave is still due, so the periodic job sends it once the broker is back.
    assert Task.objects.get(pk=task["id"]).next_offer_at is not None
    assert Notice.objects.count() == 0


def test_the_sweep_sends_a_notice_whose_job_never_ran_once(
    world: Personas,
    client_for: Client,
    task_body: Body,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        task = book(client_for(world.alice), task_body())
    assert [m.to for m in mail.outbox] == [["hana@example.org"]]
    # The accept commits, but its notice's job is lost (never run).
    with django_capture_on_commit_callbacks(execute=False):
        assert client_for(world.hana).post(task_url(task["id"], "accept")).status_code == 200
    accepted = Notice.objects.get(kind=NoticeKind.TASK_ACCEPTED)
    assert accepted.sent_at is None

    assert notify.notices_sweep() == 0  # younger than a minute: its job may still be coming
    with time_machine.travel(timezone.now() + LATER):
        assert tasks.notices_sweep.delay().get() == 1
        assert tasks.notices_sweep.delay().get() == 0  # sent: never again

    assert [m.to for m in mail.outbox] == [["hana@example.org"], ["alice@example.org"]]
    accepted.refresh_from_db()
    assert accepted.sent_at is not None


def test_the_sweep_sends_no_offer_of_a_task_someone_took_and_nothing_a_day_old(
    world: Personas,
    client_for: Client,
    task_body: Body,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Nothing queued is ever run: the offer, then the accept notice, both stay unsent.
    with django_capture_on_commit_callbacks(execute=False):
        task = book(client_for(world.alice), task_body())
        notify.offer_wave(task_id=task["id"])
        assert client_for(world.hana).post(task_url(task["id"], "accept")).status_code == 200
    assert Notice.objects.filter(sent_at__isnull=True).count() == 2

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert notify.notices_sweep() == 0  # a day late: left alone
    with time_machine.travel(timezone.now() + LATER):
        assert notify.notices_sweep() == 1

    assert [m.to for m in mail.outbox] == [["alice@example.org"]]  # the accept, not the offer
    assert Notice.objects.get(kind=NoticeKind.TASK_OFFERED).sent_at is None


def test_the_notices_sweep_is_scheduled() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"matching.tasks.notices_sweep", "payments.tasks.reminder_emails_outbox"} <= scheduled
