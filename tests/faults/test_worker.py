"""A worker's pool process killed in the middle of a task (SIGKILL: out of memory, a host
shutting down hard). The task is acknowledged only when it has run and given back to the queue
when its process dies (CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), and it is
idempotent, so its effect happens once: here, a wave of offers, each helper told once.

To kill it at a known point inside, the test holds the task's row lock, which the wave takes
first: the pool process waits inside its transaction until it is killed."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg2
import pytest
from django.conf import settings
from django.utils import timezone

from circle.celery import app
from matching.models import Notice, NoticeKind, Task
from tests.conftest import Personas
from tests.faults.conftest import Stack, wait_for
from tests.matching.conftest import new_helper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock(port: int) -> bool:
    """Whether some session (the pool process's) is waiting for a row lock."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=db["NAME"])
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            (count,) = cursor.fetchone()
            return bool(count)
    finally:
        conn.close()


def test_a_wave_whose_pool_process_is_killed_midway_is_sent_once(
    faults: Stack, world: Personas, task_body: Callable[..., dict[str, Any]]
) -> None:
    ivy = new_helper(world, "Ivy")
    booked = faults.request("POST", "/api/v1/tasks/", task_body(), who=world.alice)
    assert booked.status == 201, booked.body
    task_id = booked.body["id"]
    offers = Notice.objects.filter(task_id=task_id, kind=NoticeKind.TASK_OFFERED)
    # The first wave tells one helper (MATCHING_OFFER_WAVE_SIZE is 1 here).
    wait_for(lambda: len(faults.mail_to()) == 1, "the first wave's offer")
    (first,) = offers.values_list("recipient_id", flat=True)

    db = settings.DATABASES["default"]
    holder = psycopg2.connect(host="127.0.0.1", port=faults.pg.port, user="postgres",
                              dbname=db["NAME"])  # fmt: skip
    try:
        with holder.cursor() as cursor:
            # The second wave is due, but the task is locked by us until the kill.
            cursor.execute(
                "UPDATE matching_task SET next_offer_at = %s WHERE id = %s",
                [timezone.now() - timedelta(seconds=1), task_id],
            )
            (pool,) = faults.worker.pool_pids()
            app.send_task("matching.tasks.offer_task", args=[task_id])
            wait_for(lambda: _waiting_on_a_lock(faults.pg.port), "the wave to wait on the lock")

            os.kill(pool, signal.SIGKILL)
            wait_for(lambda: faults.worker.pool_pids() not in ([], [pool]), "a new pool process")
        holder.commit()
    finally:
        holder.close()

    # Given back to the queue when its process died, the job runs again and sends the wave.
    wait_for(lambda: len(faults.mail_to()) == 2, "the second wave's offer, after the kill")
    log = faults.worker.log.read_text()
    assert "WorkerLostError" in log or "SIGKILL" in log  # the kill did happen mid-task
    assert faults.run("matching.tasks.offer_waves_due") == "0"  # nothing left due
    assert sorted(offers.values_list("recipient_id", flat=True)) == sorted(
        [first, world.hana.pk if first == ivy.member_id else ivy.member_id]
    )
    assert offers.filter(sent_at__isnull=True).count() == 0
    assert faults.mail_to() == ["hana@example.org", "ivy@example.org"]
    assert Task.objects.get(pk=task_id).offer_wave == 2
