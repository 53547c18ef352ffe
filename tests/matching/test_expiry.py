"""Expiry: an open task whose window ended with nobody closes and gives its tokens back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from matching import tasks
from matching.models import Notice, NoticeKind, Task
from members.models import AuditEvent
from tests.conftest import Personas
from tests.matching.conftest import book, london, row_counts, task_url, tokens_of

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


def test_the_periodic_job_expires_open_tasks_after_their_window(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    lonely = book(alice, task_body(title="Nobody came"))
    taken = book(alice, task_body(title="Hana came"))
    hana.post(task_url(taken["id"], "accept"))
    assert tokens_of(alice, world.alice)["held"] == 180

    # During the window nothing expires.
    with time_machine.travel(london(hour=11), tick=False):
        assert tasks.expire_tasks.delay().get() == 0
    with time_machine.travel(london(hour=12) + timedelta(minutes=1), tick=False):
        assert tasks.expire_tasks.delay().get() == 1
        counts = row_counts()
        assert tasks.expire_tasks.delay().get() == 0  # a second run does nothing
        assert row_counts() == counts

        assert alice.get(task_url(lonely["id"])).json()["status"] == "expired"
        assert alice.get(task_url(taken["id"])).json()["status"] == "accepted"
        # Only the accepted task's 90 minutes are still held.
        assert tokens_of(alice, world.alice) == {"balance": 300, "held": 90, "available": 210}
        assert AuditEvent.objects.filter(action="task.expired").count() == 1

        late = hana.post(task_url(lonely["id"], "accept"))
        assert (late.status_code, late.json()["code"]) == (409, "task_expired")
        cancel = alice.post(task_url(lonely["id"], "cancel"), {"reason": "x"}, format="json")
        assert cancel.status_code == 409


def test_accepting_after_the_window_but_before_the_job_is_refused(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = book(client_for(world.alice), task_body())

    with time_machine.travel(london(hour=13), tick=False):
        counts = row_counts()
        response = client_for(world.hana).post(task_url(task["id"], "accept"))

        assert (response.status_code, response.json()["code"]) == (409, "task_expired")
        assert row_counts() == counts
        assert Task.objects.get(pk=task["id"]).status == "open"


def test_accepting_a_cancelled_task_is_refused(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice = client_for(world.alice)
    task = book(alice, task_body())
    alice.post(task_url(task["id"], "cancel"), {"reason": "No longer needed"}, format="json")
    counts = row_counts()

    response = client_for(world.hana).post(task_url(task["id"], "accept"))

    assert (response.status_code, response.json()["code"]) == (409, "task_cancelled")
    assert row_counts() == counts


def test_the_periodic_jobs_are_scheduled(settings: Any) -> None:
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {
        "matching.tasks.expire_tasks",
        "matching.tasks.offer_waves_due",
        "matching.tasks.book_series_ahead",
    } <= names


def test_the_member_is_told_once_that_nobody_was_free(
    world: Personas,
    client_for: Client,
    task_body: Body,
    sms_outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    task = book(client_for(world.alice), task_body(title="Nobody came"))
    mail.outbox.clear()
    sms_outbox.clear()

    with time_machine.travel(london(hour=12) + timedelta(minutes=1), tick=False):
        for _ in range(2):  # the job running twice tells her once
            with django_capture_on_commit_callbacks(execute=True):
                tasks.expire_tasks.delay().get()

    notice = Notice.objects.get(task_id=task["id"], kind=NoticeKind.TASK_EXPIRED)
    assert notice.recipient_id == world.alice.pk
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert "Nobody came" in mail.outbox[0].body
    assert "90 minutes held for it are back" in mail.outbox[0].body
    assert [s.to for s in sms_outbox] == [world.alice.phone]
