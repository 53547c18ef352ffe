"""What booking and the lifecycle cost (SQL statements a request), and that answering with the
task the service returns, rather than reading it back, answers what reading it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.models import Notice, NoticeKind, Task
from matching.notify import offer_key, offer_wave
from members.models import RoleName
from members.services import role_grant
from messaging.models import Sms, SmsStatus
from tests.conftest import Personas
from tests.factories import HelperFactory
from tests.matching.conftest import TASKS_URL, book, new_helper, task_url, vet
from tests.matching.tasks_factory import helper_near, make_task

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements a request sent, without the test's own savepoints (in production the
    service's transaction is BEGIN and COMMIT, which Django does not count)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def same_as_read(client: Any, answer: Any) -> None:
    """The answer of a write is what reading the task by id then shows."""
    body = answer.json()
    read = client.get(task_url(body["id"]))
    assert read.status_code == 200, read.json()
    assert body == read.json()


def test_each_answer_is_the_task_as_reading_it_shows(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    booked = alice.post(TASKS_URL, task_body(idempotency_key="k1"), format="json")
    assert booked.status_code == 201, booked.json()
    same_as_read(alice, booked)
    again = alice.post(TASKS_URL, task_body(idempotency_key="k1"), format="json")
    assert again.status_code == 200
    same_as_read(alice, again)
    task_id = booked.json()["id"]

    accepted = hana.post(task_url(task_id, "accept"))
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["helper"]["first_name"] == "Hana"
    same_as_read(hana, accepted)
    same_as_read(hana, hana.post(task_url(task_id, "accept")))  # a repeat
    done = hana.post(task_url(task_id, "complete"), {"minutes": 70}, format="json")
    same_as_read(hana, done)
    confirmed = alice.post(task_url(task_id, "confirm"), {}, format="json")
    assert confirmed.json()["status"] == "settled"
    same_as_read(alice, confirmed)

    other = book(alice, task_body(title="Hang a shelf", category="diy"))
    diy = new_helper(world, "Dan", skills=["diy"])
    taken = client_for(diy.member).post(task_url(other["id"], "accept"))
    assert taken.status_code == 200, taken.json()
    same_as_read(client_for(diy.member), taken)
    handed = client_for(diy.member).post(
        task_url(other["id"], "cancel"), {"reason": "Unwell"}, format="json"
    )
    assert handed.json()["status"] == "open"
    # The helper who handed it back reads it as another helper of the circle now.
    same_as_read(client_for(diy.member), handed)
    cancelled = alice.post(task_url(other["id"], "cancel"), {"reason": "No need"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    same_as_read(alice, cancelled)


def test_staff_booking_for_a_member_answer_as_reading_shows(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    otto = client_for(world.otto)
    booked = otto.post(
        TASKS_URL, task_body(member_id=world.alice.pk, reason="Phoned in"), format="json"
    )
    assert booked.status_code == 201, booked.json()
    assert booked.json()["address"] is not None
    same_as_read(otto, booked)


def test_a_member_who_also_helps_is_shown_the_distance_on_booking(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    role_grant(member=world.alice, role=RoleName.HELPER)
    vet(HelperFactory(member=world.alice), by=world.cora)
    alice = client_for(world.alice)
    booked = alice.post(TASKS_URL, task_body(), format="json")
    assert booked.status_code == 201, booked.json()
    assert booked.json()["distance_km"] is not None
    same_as_read(alice, booked)


def test_booking_and_accepting_send_few_statements(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    book(alice, task_body(title="First"))  # the circle's system accounts exist from now on

    with CaptureQueriesContext(connection) as booking:
        booked = alice.post(TASKS_URL, task_body(idempotency_key="k2"), format="json")
    assert booked.status_code == 201
    with CaptureQueriesContext(connection) as accepting:
        accepted = hana.post(task_url(booked.json()["id"], "accept"))
    assert accepted.status_code == 200

    # Booking was 18 statements and accepting 22, savepoints aside (on SQLite booking sends
    # four more: its ledger writes its rows one by one where PostgreSQL sends one statement);
    # booking 12 while it read the balance before every hold, not only on a refusal.
    ledger = 0 if connection.vendor == "postgresql" else 4
    assert len(statements(booking)) <= 11 + ledger, statements(booking)
    assert len(statements(accepting)) <= 10, statements(accepting)
    # The accept's lock joins neither the circle (read with the task just before) nor the
    # helper (the caller's own profile, read with their standing): fewer tables to plan.
    (lock,) = [
        sql
        for sql in statements(accepting)
        if 'FROM "matching_task"' in sql and "JOIN" in sql and '"tokens_hold"' in sql
    ]
    assert '"circle_circle"' not in lock, lock
    assert '"helpers_helper"' not in lock, lock


@pytest.mark.parametrize("helpers", [4, 16])
def test_a_wave_of_offers_reads_no_helper_rows(world: Personas, helpers: int) -> None:
    # The worker's share of a booking: the ranking carries each helper's member, so telling
    # the first few reads no helper rows, however many helpers are eligible.
    for n in range(helpers):
        helper_near(world.alice, north_km=(n + 1) / 10, skills=["gardening"])
    task = make_task(member=world.alice)
    Task.objects.filter(pk=task.pk).update(next_offer_at=timezone.now())

    with CaptureQueriesContext(connection) as seen:
        written = offer_wave(task_id=task.pk)

    assert len(written) == settings.MATCHING_OFFER_WAVE_SIZE
    sent = statements(seen)
    assert not [sql for sql in sent if 'FROM "helpers_helper"' in sql.split("WHERE")[0]], sent
    assert len(sent) <= 5 + settings.MATCHING_OFFER_WAVE_SIZE, sent


def test_a_wave_is_claimed_read_and_sent_at_once(
    world: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    # The worker's share of a booking: the wave's offers are sent by the wave itself, after
    # its commit, with one claim and one read for them all (no job, no claim, per helper).
    for n in range(4):
        helper_near(world.alice, north_km=(n + 1) / 10, skills=["gardening"])
    task = make_task(member=world.alice)
    Task.objects.filter(pk=task.pk).update(next_offer_at=timezone.now())

    with (
        CaptureQueriesContext(connection) as seen,
        django_capture_on_commit_callbacks(execute=True),
    ):
        written = offer_wave(task_id=task.pk)

    size = settings.MATCHING_OFFER_WAVE_SIZE
    assert len(written) == size
    offers = Notice.objects.filter(pk__in=written)
    assert all(n.sent_at is not None and n.channels == ["email", "sms"] for n in offers)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(str(n.recipient.email) for n in offers)
    sent = statements(seen)
    claims = [sql for sql in sent if "SET sent_at" in sql or 'SET "sent_at"' in sql]
    assert len(claims) == 1, sent
    assert len([sql for sql in sent if 'FROM "helpers_helper"' in sql]) == 1, sent
    assert len([sql for sql in sent if 'SET "channels"' in sql]) == 1, sent
    # The wave's texts are kept in one statement, not a transaction each.
    assert len([sql for sql in sent if 'INSERT INTO "messaging_sms"' in sql]) == 1, sent
    texts = Sms.objects.filter(task_id=task.pk).order_by("reference")
    assert [t.reference for t in texts] == sorted(n.key for n in offers)
    assert all(t.status == SmsStatus.SENT and not t.follow_up for t in texts)
    # The wave (5) and its sending: a claim, a read, the helpers, the texts, the channels.
    assert len(sent) <= 5 + 3 + 1 + 1, sent


def test_a_helper_told_meanwhile_is_not_told_twice(
    world: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    # Were an offer written beside the wave (the row lock makes it all but impossible), the
    # wave's one INSERT is refused and each offer is written alone, skipping that helper.
    helpers = [
        helper_near(world.alice, north_km=(n + 1) / 10, skills=["gardening"]) for n in range(4)
    ]
    task = make_task(member=world.alice)
    Task.objects.filter(pk=task.pk).update(next_offer_at=timezone.now())
    nearest = helpers[0]
    Notice.objects.create(
        circle_id=task.circle_id,
        kind=NoticeKind.TASK_OFFERED,
        key=offer_key(task.pk, nearest.pk),
        task=task,
        recipient_id=nearest.member_id,
        wave=1,
        sent_at=timezone.now(),
    )

    with django_capture_on_commit_callbacks(execute=True):
        written = offer_wave(task_id=task.pk)

    assert len(written) == settings.MATCHING_OFFER_WAVE_SIZE - 1
    offers = Notice.objects.filter(task=task, kind=NoticeKind.TASK_OFFERED)
    told = list(offers.values_list("recipient_id", flat=True))
    assert len(told) == len(set(told)) == settings.MATCHING_OFFER_WAVE_SIZE
    assert nearest.member_id in told
    assert nearest.member.email not in [m.to[0] for m in mail.outbox]
    assert len(mail.outbox) == len(written)
