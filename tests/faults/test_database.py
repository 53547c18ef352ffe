"""PostgreSQL stopped and started again (`pg_ctl stop -m fast`, then `start`) under load from
several threads. Every request answers: 2xx, or 503 in the API's format with the code
`database_unavailable` (never a 500, never a hang), and once the server is back requests
succeed again, from the same gunicorn and worker, without anyone restarting them.

Bookings carry idempotency keys, so a client can ask again after a 503 without booking twice;
asking again for every 503 afterwards makes the counts exact: one task per key, and exactly its
estimate held for each."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from matching.models import Notice, NoticeKind, Task
from tests.conftest import Personas
from tests.faults.conftest import Answer, Stack, wait_for
from tests.matching.conftest import give_tokens
from tokens.selectors import member_tokens

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 4
ESTIMATE = 30


@dataclass
class Call:
    method: str
    key: str  # the booking's idempotency key ("" for a read)
    answer: Answer | None
    error: str = ""  # a broken connection or a timeout: what must never happen


def test_postgresql_restarted_under_load_answers_503_and_recovers_by_itself(
    faults: Stack, world: Personas, task_body: Callable[..., dict[str, Any]]
) -> None:
    give_tokens(world.alice, minutes=200 * ESTIMATE, key="faults-load")
    token = faults.token_for(world.alice)
    gunicorn_pid = faults.gunicorn.pid if faults.gunicorn else None
    worker_pid = faults.worker.proc.pid if faults.worker.proc else None
    calls: list[Call] = []
    guard = threading.Lock()
    stop = threading.Event()

    def body(key: str) -> dict[str, Any]:
        return task_body(estimated_minutes=ESTIMATE, idempotency_key=key)

    def load(number: int) -> None:
        while not stop.is_set():
            booking = number % 2 == 0
            key = uuid.uuid4().hex if booking else ""
            try:
                if booking:
                    answer = faults.request("POST", "/api/v1/tasks/", body(key), who=token)
                else:
                    answer = faults.request("GET", "/api/v1/me/", who=token)
                call = Call("POST" if booking else "GET", key, answer)
            except OSError as exc:  # a reset connection, a timeout: a hang or a crash
                call = Call("POST" if booking else "GET", key, None, repr(exc))
            with guard:
                calls.append(call)

    def count(status: int, since: int = 0) -> int:
        with guard:
            return sum(1 for c in calls[since:] if c.answer and c.answer.status // 100 == status)

    def unavailable(since: int) -> int:
        with guard:
            return sum(1 for c in calls[since:] if c.answer and c.answer.status == 503)

    threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: count(2) >= 2 * THREADS, "the load to run")
        faults.pg.stop()
        with guard:
            down_from = len(calls)
        wait_for(lambda: unavailable(down_from) >= 2 * THREADS, "503s while it is down")
        faults.pg.start()
        with guard:
            back_from = len(calls)
        wait_for(lambda: count(2, back_from) >= 2 * THREADS, "successes after it is back")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)

    assert [c.error for c in calls if c.error] == []
    statuses = {c.answer.status for c in calls if c.answer}
    assert statuses <= {200, 201, 503}, [c.answer for c in calls if c.answer]
    refused = [c.answer for c in calls if c.answer and c.answer.status == 503]
    assert refused  # some were in flight or sent while it was down
    assert {a.code for a in refused} == {"database_unavailable"}
    assert all(a.body["detail"] for a in refused)
    # The same processes, reconnected by themselves.
    assert faults.gunicorn is not None
    assert (faults.gunicorn.pid, faults.gunicorn.poll()) == (gunicorn_pid, None)
    assert faults.worker.proc is not None
    assert (faults.worker.proc.pid, faults.worker.proc.poll()) == (worker_pid, None)

    # A client asks again for each booking that answered 503: booked once, whether or not the
    # first attempt had committed before the connection was cut.
    connection.close()  # this process's own connection died with the server
    keys = [c.key for c in calls if c.method == "POST"]
    for call in calls:
        if call.method == "POST" and call.answer and call.answer.status == 503:
            again = faults.request("POST", "/api/v1/tasks/", body(call.key), who=token)
            assert again.status in (200, 201), again.body
    tasks = Task.objects.filter(member=world.alice)
    assert tasks.count() == len(keys) == len(set(keys))
    tokens = member_tokens(member=world.alice)
    assert tokens.held == len(keys) * ESTIMATE

    # The worker works again: every task is offered to Hana once, whatever failed meanwhile
    # (a wave cut by the restart is still due; a notice whose claim was undone is unsent).
    faults.run("matching.tasks.offer_waves_due")
    faults.run("matching.tasks.notices_sweep")
    offers = Notice.objects.filter(kind=NoticeKind.TASK_OFFERED)
    assert offers.count() == len(keys)
    assert offers.filter(sent_at__isnull=True).count() == 0
    assert faults.mail_to() == ["hana@example.org"] * len(keys)
