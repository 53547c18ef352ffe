"""Accepting under real concurrency, on PostgreSQL: threads with their own connections, released
at once, against committed data. Exactly one helper gets the task; every other accept is a 409
task_taken; the ledger is untouched by accepting and clean afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from matching.models import Task, TaskStatus
from members.models import AuditEvent
from tests.conftest import Personas
from tests.matching.conftest import book, new_helper, task_url, tokens_of
from tests.tokens.test_concurrency import run_together, statuses
from tokens.selectors import ledger_audit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

Client = Callable[[Any], Any]


def test_eight_helpers_accept_at_once_and_exactly_one_wins(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice = client_for(world.alice)
    helpers = [new_helper(world, f"Racer{i}") for i in range(8)]
    clients = [client_for(h.member) for h in helpers]
    task = book(alice, task_body())
    ledger = tokens_of(alice, world.alice)

    responses = run_together([lambda c=c: c.post(task_url(task["id"], "accept")) for c in clients])

    assert statuses(responses) == {200: 1, 409: 7}
    losers = [r for r in responses if r.status_code == 409]
    assert {r.json()["code"] for r in losers} == {"task_taken"}
    winner = next(r for r in responses if r.status_code == 200)
    saved = Task.objects.get(pk=task["id"])
    assert saved.status == TaskStatus.ACCEPTED
    assert saved.helper_id == winner.json()["helper"]["helper_id"]
    assert AuditEvent.objects.filter(action="task.accepted", data__task_id=task["id"]).count() == 1
    assert tokens_of(alice, world.alice) == ledger
    assert ledger_audit().ok


def test_accepts_racing_a_cancel_leave_one_consistent_outcome(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice = client_for(world.alice)
    helpers = [new_helper(world, f"Quick{i}") for i in range(4)]
    clients = [client_for(h.member) for h in helpers]
    task = book(alice, task_body())

    calls: list[Callable[[], Any]] = [
        lambda c=c: c.post(task_url(task["id"], "accept")) for c in clients
    ]
    calls.append(
        lambda: alice.post(
            task_url(task["id"], "cancel"), {"reason": "Changed my mind"}, format="json"
        )
    )
    responses = run_together(calls)

    saved = Task.objects.get(pk=task["id"])
    accepted = [r for r in responses[:4] if r.status_code == 200]
    assert responses[4].status_code == 200  # cancelling an accepted task is allowed too
    assert saved.status == TaskStatus.CANCELLED
    assert saved.helper_id is None
    assert len(accepted) <= 1
    assert tokens_of(alice, world.alice) == {"balance": 300, "held": 0, "available": 300}
    assert ledger_audit().ok


def test_two_bookings_racing_for_the_last_tokens_cannot_overspend(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    # Bob has 120 minutes: one 90-minute booking fits, two do not.
    bobs = [client_for(world.bob) for _ in range(2)]

    responses = run_together(
        [
            lambda c=c, i=i: c.post(
                "/api/v1/tasks/", task_body(title=f"Job {i}", estimated_minutes=90), format="json"
            )
            for i, c in enumerate(bobs)
        ]
    )

    assert statuses(responses) == {201: 1, 409: 1}
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["code"] == "insufficient_tokens"
    assert Task.objects.count() == 1
    assert tokens_of(bobs[0], world.bob) == {"balance": 120, "held": 90, "available": 30}


def test_confirming_many_times_at_once_settles_once(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())
    hana.post(task_url(task["id"], "accept"))
    hana.post(task_url(task["id"], "complete"), {"minutes": 60}, format="json")
    clients = [client_for(world.alice) for _ in range(3)] + [client_for(world.otto)]

    responses = run_together(
        [lambda c=c: c.post(task_url(task["id"], "confirm"), {}, format="json") for c in clients]
    )

    assert statuses(responses) == {200: 4}
    assert AuditEvent.objects.filter(action="task.settled", data__task_id=task["id"]).count() == 1
    assert tokens_of(alice, world.alice) == {"balance": 240, "held": 0, "available": 240}
    assert tokens_of(hana, world.hana)["balance"] == 60
