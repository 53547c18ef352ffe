"""The broker unreachable. Before: a booking committed, then answered 500 when its job could not
be queued, and its notice was never sent. Now nothing a request does fails for the queue: the
notice rows (and a task's due wave) are the outbox, and the periodic jobs send what is unsent,
once per row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from matching.models import Notice, NoticeKind, Task
from tests.conftest import Personas
from tests.faults.conftest import Stack, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_with_the_broker_down_nothing_fails_and_each_notice_is_sent_once(
    faults: Stack, world: Personas, task_body: Callable[..., dict[str, Any]]
) -> None:
    faults.redis.stop()

    booked = faults.request("POST", "/api/v1/tasks/", task_body(), who=world.alice)

    assert booked.status == 201, booked.body
    task_id = booked.body["id"]
    # Nothing could be queued: no wave has run, and it is still due.
    assert Notice.objects.filter(task_id=task_id).count() == 0
    assert Task.objects.get(pk=task_id).next_offer_at is not None

    faults.redis.start()  # empty: whatever it held is gone
    assert faults.run("matching.tasks.offer_waves_due") == "1"
    wait_for(lambda: faults.mail_to() == ["hana@example.org"], "Hana's offer")

    faults.redis.stop()
    accepted = faults.request("POST", f"/api/v1/tasks/{task_id}/accept/", who=world.hana)

    assert accepted.status == 200, accepted.body
    notice = Notice.objects.get(task_id=task_id, kind=NoticeKind.TASK_ACCEPTED)
    assert notice.sent_at is None  # written with the accept, its job never queued

    faults.redis.start()
    assert faults.run("matching.tasks.notices_sweep") == "1"
    assert faults.run("matching.tasks.notices_sweep") == "0"  # once per row
    assert faults.run("matching.tasks.offer_waves_due") == "0"

    assert faults.mail_to() == ["alice@example.org", "hana@example.org"]
    notice.refresh_from_db()
    assert notice.sent_at is not None
    assert Notice.objects.filter(task_id=task_id).count() == 2
    assert Notice.objects.filter(task_id=task_id, sent_at__isnull=True).count() == 0
