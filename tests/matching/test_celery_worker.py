"""The notification path end to end with a real broker: a booking commits, its on_commit hook
queues the offer on Redis, a real Celery worker (a thread consuming from Redis, not eager mode)
runs the wave, which queues each notice, which the worker sends. Skipped without
CIRCLE_TEST_REDIS_URL on a laptop; a failure in CI (`CI` set) when it is missing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connection

from circle.celery import app
from matching.models import Notice, NoticeKind
from tests.conftest import Personas
from tests.matching.conftest import book, new_helper, task_url

REDIS_URL = os.environ.get("CIRCLE_TEST_REDIS_URL", "")
# Only a bound on a broken run, so that it fails instead of hanging; no timing is asserted.
WAIT_SECONDS = 60

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="commits seen by a worker need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI is set but CIRCLE_TEST_REDIS_URL is not: the worker path is untested")
        pytest.skip("set CIRCLE_TEST_REDIS_URL to a Redis server to test Celery for real")
    return REDIS_URL


def _close_connection(**_: Any) -> None:
    # The worker thread's database connection, closed after each task so that none outlives
    # the test (the test database is dropped at the end of the run).
    connection.close()


def _fresh_pools() -> None:
    # The app keeps its connection and producer pools for the broker it first used; forget
    # them (as Celery does after a fork) so the next message goes to the broker now set.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(redis_url: str) -> Iterator[None]:
    saved = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
        "result_backend": app.conf.result_backend,
    }
    app.conf.update(broker_url=redis_url, task_always_eager=False, result_backend=None)
    _fresh_pools()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)
    task_postrun.connect(_close_connection)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(_close_connection)
        app.pool.force_close_all()
        app.conf.update(saved)
        _fresh_pools()


def wait_for(condition: Callable[[], bool]) -> None:
    """Wait until the worker has done its part (or fail after WAIT_SECONDS)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the worker did not finish in time"
        time.sleep(0.05)


def test_a_booking_is_offered_and_the_accept_announced_through_a_real_worker(
    world: Personas,
    client_for: Callable[[Any], Any],
    task_body: Callable[..., dict[str, Any]],
    sms_outbox: list[Any],
    worker: None,
) -> None:
    assert app.conf.task_always_eager is False  # through Redis and the worker, not in-process
    ivy = new_helper(world, "Ivy", latitude=Decimal("51.50718"), phone="+447700900150")

    task = book(client_for(world.alice), task_body())

    offers = Notice.objects.filter(task_id=task["id"], kind=NoticeKind.TASK_OFFERED)
    wait_for(lambda: offers.count() == 2 and not offers.filter(sent_at__isnull=True).exists())
    assert set(offers.values_list("recipient_id", flat=True)) == {world.hana.pk, ivy.member_id}
    wait_for(lambda: len(mail.outbox) == 2 and len(sms_outbox) == 2)
    assert sorted(m.to[0] for m in mail.outbox) == ["hana@example.org", "ivy@example.org"]

    assert client_for(world.hana).post(task_url(task["id"], "accept")).status_code == 200
    accepted = Notice.objects.filter(task_id=task["id"], kind=NoticeKind.TASK_ACCEPTED)
    # The worker records the channels once both messages are out.
    wait_for(lambda: list(accepted.values_list("channels", flat=True)) == [["email", "sms"]])
    assert len(mail.outbox) == 3
    assert mail.outbox[2].to == ["alice@example.org"]
    assert accepted.get().sent_at is not None
