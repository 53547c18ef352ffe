"""The ledger under real concurrency, on PostgreSQL: many threads, each with its own database
connection, released at once by a barrier, against committed data (`transaction=True`).

What must hold: nobody overspends, nobody sees a deadlock or a serialisation failure (the
services retry those), an idempotency key moves minutes once however many requests carry it, a
transaction killed before its commit leaves nothing behind, and the books stay exact throughout
(the autouse `ledger_audit` check in tests/conftest.py runs after each test as well).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
from django.db import Error, connection, transaction
from rest_framework.test import APIClient

from members.models import AuditEvent, Member
from tests.conftest import Personas
from tests.factories import MemberFactory
from tokens.models import Account, AccountKind, Entry, Hold, LedgerTransaction, TransactionKind
from tokens.selectors import ledger_audit
from tokens.services import (
    hold_create,
    purchase_credit,
    system_account_id,
    transfer_create,
    wallet_id,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

TRANSFERS_URL = "/api/v1/transfers/"
# Generous bounds, only so that a deadlocked run fails instead of hanging the suite.
WAIT_SECONDS = 120

ClientFor = Callable[[Member | None], APIClient]


# --- Running things at once -------------------------------------------------------------------


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread (so on its own database connection), all released at
    once, and return what each returned or raised, in order. Fails if any thread is stuck."""
    barrier = threading.Barrier(len(calls), timeout=WAIT_SECONDS)
    results: list[Any] = [None] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            try:
                # Connect before the barrier, so the calls themselves start together.
                connection.ensure_connection()
            except BaseException:
                barrier.abort()
                raise
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported by the assertions, not lost in the thread
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(i, call), daemon=True) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "threads still running: a deadlock?"
    return results


def statuses(responses: list[Any]) -> Counter[Any]:
    """Status codes, or the exception a thread raised instead of answering."""
    return Counter(getattr(r, "status_code", repr(r)) for r in responses)


# --- Setting up -------------------------------------------------------------------------------


def buy(member: Member, minutes: int, key: str) -> None:
    purchase_credit(member=member, minutes=minutes, payment_key=key, actor=None)


def balance_of(account_id: int) -> int:
    return Account.objects.values_list("balance", flat=True).get(pk=account_id)


def wallet_balance(member: Member) -> int:
    return Account.objects.filter(member=member).values_list("balance", flat=True).first() or 0


def pot_balance(personas: Personas) -> int:
    return (
        Account.objects.filter(circle=personas.southwark, kind=AccountKind.POT)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


def gift_body(*, minutes: int, key: str, to: Member | None) -> dict[str, Any]:
    target: dict[str, Any] = {"to_member_id": to.pk} if to else {"to": "pot"}
    return {**target, "minutes": minutes, "idempotency_key": key}


# --- Fifty spends against a hundred minutes ---------------------------------------------------


@pytest.mark.parametrize("to_pot", [False, True], ids=["to-a-member", "to-the-pot"])
def test_fifty_simultaneous_spends_of_ten_from_a_hundred_succeed_exactly_ten_times(
    personas: Personas, client_for: ClientFor, to_pot: bool
) -> None:
    alice = personas.alice
    recipient = None if to_pot else personas.bob  # Bob has no wallet yet: the first gift opens it
    buy(alice, 100, "cash-1")
    clients = [client_for(alice) for _ in range(50)]
    transactions_before = LedgerTransaction.objects.count()

    responses = run_together(
        [
            lambda c=c, i=i: c.post(
                TRANSFERS_URL, gift_body(minutes=10, key=f"spend-{i}", to=recipient), format="json"
            )
            for i, c in enumerate(clients)
        ]
    )

    assert statuses(responses) == {201: 10, 409: 40}, [getattr(r, "content", r) for r in responses]
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert {r["code"] for r in refusals} == {"insufficient_tokens"}
    assert all(r["detail"] for r in refusals)
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 10
    assert wallet_balance(alice) == 0
    received = pot_balance(personas) if to_pot else wallet_balance(personas.bob)
    assert received == 100
    assert LedgerTransaction.objects.count() == transactions_before + 10
    assert (
        set(
            LedgerTransaction.objects.filter(kind=TransactionKind.GIFT).values_list("id", flat=True)
        )
        == created
    )
    assert Entry.objects.filter(transaction_id__in=created).count() == 20
    assert AuditEvent.objects.filter(action="tokens.gift").count() == 10
    assert ledger_audit().ok


# --- Everyone gives to the pot at once ----------------------------------------------------------


def test_twenty_members_giving_to_the_pot_at_once_all_succeed(
    personas: Personas, client_for: ClientFor
) -> None:
    members = [MemberFactory(circle=personas.southwark) for _ in range(20)]
    for member in members:
        buy(member, 30, f"cash-{member.pk}")
    clients = [client_for(member) for member in members]

    def give_three_times(client: APIClient, member: Member) -> list[int]:
        return [
            client.post(
                TRANSFERS_URL,
                gift_body(minutes=10, key=f"pot-{member.pk}-{n}", to=None),
                format="json",
            ).status_code
            for n in range(3)
        ]

    results = run_together(
        [lambda c=c, m=m: give_three_times(c, m) for c, m in zip(clients, members, strict=True)]
    )

    assert results == [[201, 201, 201]] * 20
    assert pot_balance(personas) == 20 * 30
    assert [wallet_balance(member) for member in members] == [0] * 20
    assert LedgerTransaction.objects.filter(kind=TransactionKind.GIFT).count() == 60
    assert AuditEvent.objects.filter(action="tokens.gift").count() == 60
    assert ledger_audit().ok


# --- Pairs giving to each other in both directions --------------------------------------------


def test_pairs_giving_to_each_other_both_ways_at_once_never_deadlock(
    personas: Personas, client_for: ClientFor
) -> None:
    members = [MemberFactory(circle=personas.southwark) for _ in range(6)]
    for member in members:
        buy(member, 100, f"cash-{member.pk}")
        wallet_id(member)
    rng = random.Random(20240611)  # a fixed seed: the same gifts every run
    # One thread for each ordered pair, so A→B and B→A always run at the same time. Each member
    # gives at most 5 x 3 x 6 = 90 of their 100 minutes, so no interleaving can overdraw them.
    plan = [
        (giver, taker, [rng.randint(1, 6) for _ in range(3)])
        for giver in members
        for taker in members
        if giver is not taker
    ]
    expected = {member.pk: 100 for member in members}
    for giver, taker, gifts in plan:
        expected[giver.pk] -= sum(gifts)
        expected[taker.pk] += sum(gifts)

    def give(giver: Member, taker: Member, gifts: list[int]) -> list[int]:
        client = client_for(giver)
        return [
            client.post(
                TRANSFERS_URL,
                gift_body(minutes=minutes, key=f"{giver.pk}-{taker.pk}-{n}", to=taker),
                format="json",
            ).status_code
            for n, minutes in enumerate(gifts)
        ]

    results = run_together([lambda p=p: give(*p) for p in plan])

    assert results == [[201, 201, 201]] * len(plan), results
    assert {member.pk: wallet_balance(member) for member in members} == expected
    assert LedgerTransaction.objects.filter(kind=TransactionKind.GIFT).count() == 3 * len(plan)
    assert AuditEvent.objects.filter(action="tokens.gift").count() == 3 * len(plan)
    assert ledger_audit().ok


# --- One idempotency key, many requests -------------------------------------------------------


def test_same_idempotency_key_sent_ten_times_at_once_moves_the_minutes_once(
    personas: Personas, client_for: ClientFor
) -> None:
    alice, bob = personas.alice, personas.bob
    buy(alice, 100, "cash-1")
    clients = [client_for(alice) for _ in range(10)]

    responses = run_together(
        [
            lambda c=c: c.post(
                TRANSFERS_URL, gift_body(minutes=30, key="once", to=bob), format="json"
            )
            for c in clients
        ]
    )

    assert statuses(responses) == {201: 1, 200: 9}, [getattr(r, "content", r) for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert (wallet_balance(alice), wallet_balance(bob)) == (70, 30)
    assert LedgerTransaction.objects.filter(kind=TransactionKind.GIFT).count() == 1
    assert AuditEvent.objects.filter(action="tokens.gift").count() == 1


# --- Killed before the commit -----------------------------------------------------------------


def snapshot() -> dict[str, Any]:
    return {
        "transactions": LedgerTransaction.objects.count(),
        "entries": Entry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "holds": Hold.objects.count(),
        "balances": dict(Account.objects.values_list("id", "balance")),
    }


@pytest.fixture
def killer() -> Iterator[Callable[[int], bool]]:
    """Terminates another backend of the test database, from a connection of its own."""
    settings = connection.settings_dict
    own = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    own.autocommit = True

    def kill(pid: int) -> bool:
        with own.cursor() as cursor:
            # With a timeout, PostgreSQL waits until the backend has really gone.
            cursor.execute("SELECT pg_terminate_backend(%s, %s)", [pid, WAIT_SECONDS * 1000])
            return bool(cursor.fetchone()[0])

    yield kill
    own.close()


def run_and_kill(killer: Callable[[int], bool], write: Callable[[], Any]) -> BaseException | None:
    """Run `write` in a thread inside a transaction, terminate that thread's backend after the
    write but before the commit, and return what the thread then raised."""
    written, killed = threading.Event(), threading.Event()
    pid: list[int] = []
    raised: list[BaseException] = []

    def doomed() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            with transaction.atomic():
                write()
                written.set()
                killed.wait(WAIT_SECONDS)
        except BaseException as exc:
            raised.append(exc)
        finally:
            written.set()  # never leave the main thread waiting, whatever happened
            with contextlib.suppress(Error):  # the connection is gone already
                connection.close()

    thread = threading.Thread(target=doomed, daemon=True)
    thread.start()
    assert written.wait(WAIT_SECONDS)
    assert not raised, raised  # the write itself went through, uncommitted
    assert killer(pid[0])
    killed.set()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()
    return raised[0] if raised else None


def test_transfer_killed_before_commit_leaves_nothing_and_its_retry_succeeds_once(
    personas: Personas, killer: Callable[[int], bool]
) -> None:
    alice, bob = personas.alice, personas.bob
    buy(alice, 100, "cash-1")
    wallet_id(bob)
    before = snapshot()

    def gift() -> Any:
        return transfer_create(
            source=alice,
            destination=bob,
            minutes=40,
            memo="for the shopping",
            actor=alice.user,
            idempotency_key="gift-1",
        )

    raised = run_and_kill(killer, gift)

    assert isinstance(raised, Error), raised  # the commit failed: the connection was gone
    assert snapshot() == before
    assert not LedgerTransaction.objects.filter(idempotency_key="gift:gift-1").exists()

    retried = gift()
    again = gift()

    assert retried.created
    assert (again.transaction_id, again.created) == (retried.transaction_id, False)
    assert (wallet_balance(alice), wallet_balance(bob)) == (60, 40)
    assert LedgerTransaction.objects.count() == before["transactions"] + 1
    assert Entry.objects.count() == before["entries"] + 2
    assert AuditEvent.objects.filter(action="tokens.gift").count() == 1


def test_hold_killed_before_commit_leaves_nothing_and_its_retry_holds_once(
    personas: Personas, killer: Callable[[int], bool]
) -> None:
    alice = personas.alice
    buy(alice, 100, "cash-1")
    escrow = system_account_id(personas.southwark.pk, AccountKind.ESCROW)
    before = snapshot()

    def hold() -> Hold:
        return hold_create(member=alice, minutes=45, reference="task-7", actor=alice.user)

    raised = run_and_kill(killer, hold)

    assert isinstance(raised, Error), raised
    assert snapshot() == before

    first = hold()
    second = hold()

    assert first.pk == second.pk
    assert Hold.objects.filter(reference="task-7").count() == 1
    assert (wallet_balance(alice), balance_of(escrow)) == (55, 45)
    assert LedgerTransaction.objects.filter(kind=TransactionKind.HOLD).count() == 1
    assert AuditEvent.objects.filter(action="tokens.held").count() == 1
