"""The coordinators' reads of the books (tokens/books.py) and the kept audit verdicts
(tokens/services/audits.py): accounts by kind, keyset pages of transactions (equal times
included), filters, each day's totals, a member's statement by keyset, and the export's rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.conftest import Personas
from tokens.books import (
    Cursor,
    TransactionFilters,
    audit_run_latest,
    books_summary,
    day_totals,
    export_rows,
    statement_page,
    transaction_detail,
    transaction_page,
)
from tokens.models import AuditRun, LedgerTransaction
from tokens.services import (
    audit_run_create,
    purchase_credit,
    reversal_create,
    transfer_create,
)

pytestmark = pytest.mark.django_db
# PostgreSQL stamps each ledger transaction with the database's own clock (a trigger refuses
# any other time), which a test cannot move to a chosen day; SQLite takes Python's, which
# time_machine moves. bench/coordinator.py covers a year of days on PostgreSQL.
moved_clock = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL's clock stamps the ledger"
)
LONDON = ZoneInfo("Europe/London")


def buy(member: Member, minutes: int, key: str) -> int:
    return purchase_credit(
        member=member, minutes=minutes, payment_key=key, actor=None
    ).transaction_id


def bought_at(member: Member, n: int, moment: datetime) -> list[int]:
    """`n` purchases stamped with one instant: one database transaction on PostgreSQL (its
    timestamp), a frozen clock on SQLite."""
    with time_machine.travel(moment, tick=False), transaction.atomic():
        return [buy(member, 10 + i, f"{moment.timestamp()}-{member.pk}-{i}") for i in range(n)]


def test_books_summary_totals_each_kind_and_zero(personas: Personas) -> None:
    buy(personas.alice, 120, "a")
    transfer_create(
        source=personas.alice,
        destination=None,
        minutes=20,
        memo="",
        actor=personas.alice.user,
        idempotency_key="k",
    )
    buy(personas.sam, 60, "s")
    books = books_summary(circle=personas.southwark)
    assert books.of("issuance") == -120
    assert books.of("pot") == 20
    assert books.of("wallet") == 100
    assert books.wallets == 1
    assert books.total == 0


def test_keyset_pages_cover_equal_times_once_in_order(personas: Personas) -> None:
    early = bought_at(personas.alice, 7, timezone.now() - timedelta(hours=3))
    same = bought_at(personas.bob, 13, timezone.now() - timedelta(hours=1))
    seen: list[int] = []
    before = None
    while True:
        page = transaction_page(
            circle=personas.southwark, filters=TransactionFilters(), before=before, limit=4
        )
        seen += [row["id"] for row in page.rows]
        if page.older is None:
            break
        before = page.older
    assert seen == sorted(early + same, reverse=True)


def test_going_back_a_page_gives_the_same_rows(personas: Personas) -> None:
    bought_at(personas.bob, 10, timezone.now() - timedelta(hours=1))
    filters = TransactionFilters()
    first = transaction_page(circle=personas.southwark, filters=filters, limit=4)
    second = transaction_page(
        circle=personas.southwark, filters=filters, before=first.older, limit=4
    )
    back = transaction_page(circle=personas.southwark, filters=filters, after=second.newer, limit=4)
    assert [r["id"] for r in back.rows] == [r["id"] for r in first.rows]
    assert back.newer is None
    assert back.older == first.older


def test_filters_by_kind_member_and_amount(personas: Personas) -> None:
    a = buy(personas.alice, 120, "a")
    b = buy(personas.bob, 30, "b")
    gift = transfer_create(
        source=personas.alice,
        destination=personas.bob,
        minutes=45,
        memo="",
        actor=personas.alice.user,
        idempotency_key="g",
    ).transaction_id

    def ids(**kw: object) -> set[int]:
        page = transaction_page(circle=personas.southwark, filters=TransactionFilters(**kw))
        return {row["id"] for row in page.rows}

    assert ids(kind="gift") == {gift}
    assert ids(member_id=personas.bob.pk) == {b, gift}
    assert ids(min_minutes=40, max_minutes=100) == {gift}
    assert ids(min_minutes=121) == set()
    rows = transaction_page(circle=personas.southwark, filters=TransactionFilters()).rows
    assert {row["id"]: row["amount"] for row in rows} == {a: 120, b: 30, gift: 45}


def test_a_page_names_the_reversal_of_each_row(personas: Personas) -> None:
    tx = buy(personas.alice, 60, "a")
    reversal = reversal_create(
        original=LedgerTransaction.objects.get(pk=tx), reason="twice", actor=personas.cora.user
    ).transaction_id
    rows = transaction_page(circle=personas.southwark, filters=TransactionFilters()).rows
    by_id = {row["id"]: row for row in rows}
    assert by_id[tx]["reversed_by"] == reversal
    assert by_id[reversal]["reverses_id"] == tx
    detail = transaction_detail(circle=personas.southwark, transaction_id=reversal)
    assert detail is not None
    assert detail.reason == "twice"
    assert transaction_detail(circle=personas.suffolk, transaction_id=tx) is None


def test_the_cursor_round_trips_and_refuses_nonsense() -> None:
    at = Cursor(datetime(2026, 6, 1, 9, 30, 0, 123456, tzinfo=ZoneInfo("UTC")), 42)
    assert Cursor.parse(at.token()) == at
    for bad in ("", "x.1", "1.", ".1", "1.x", "99999999999999999999999.1"):
        assert Cursor.parse(bad) is None


@moved_clock
def test_day_totals_by_london_day_and_kind(personas: Personas) -> None:
    with time_machine.travel(datetime(2026, 6, 1, 23, 30, tzinfo=LONDON), tick=False):
        buy(personas.alice, 60, "late")
    with time_machine.travel(datetime(2026, 6, 2, 0, 30, tzinfo=LONDON), tick=False):
        buy(personas.bob, 30, "early")
        transfer_create(
            source=personas.bob,
            destination=None,
            minutes=10,
            memo="",
            actor=personas.bob.user,
            idempotency_key="g",
        )
    days = day_totals(
        circle=personas.southwark,
        filters=TransactionFilters(since=date(2026, 6, 1), until=date(2026, 6, 2)),
    )
    assert [(d.day.isoformat(), d.transactions, d.moved, d.net, d.by_kind) for d in days] == [
        ("2026-06-02", 2, 40, 0, {"gift": 10, "purchase": 30}),
        ("2026-06-01", 1, 60, 0, {"purchase": 60}),
    ]


@moved_clock
def test_day_totals_cover_at_most_a_month(personas: Personas) -> None:
    with time_machine.travel(datetime(2026, 1, 1, 12, tzinfo=LONDON), tick=False):
        buy(personas.alice, 60, "old")
    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=LONDON), tick=False):
        buy(personas.alice, 60, "new")
    days = day_totals(
        circle=personas.southwark,
        filters=TransactionFilters(since=date(2026, 1, 1), until=date(2026, 3, 1)),
    )
    assert [d.day.isoformat() for d in days] == ["2026-03-01"]


def test_statement_pages_by_entry_with_running_balances(personas: Personas) -> None:
    for i in range(7):
        buy(personas.bob, 10 * (i + 1), f"b{i}")
    first = statement_page(member=personas.bob, limit=3)
    assert first.balance == 280
    assert [(line.minutes, line.balance) for line in first.lines] == [
        (70, 280),
        (60, 210),
        (50, 150),
    ]
    second = statement_page(member=personas.bob, before=first.older, limit=3)
    assert [(line.minutes, line.balance) for line in second.lines] == [
        (40, 100),
        (30, 60),
        (20, 30),
    ]
    last = statement_page(member=personas.bob, before=second.older, limit=3)
    assert [(line.minutes, line.balance) for line in last.lines] == [(10, 10)]
    assert last.older is None
    assert statement_page(member=personas.hana).lines == []


@moved_clock
def test_export_rows_one_per_entry_in_the_days_asked(personas: Personas) -> None:
    with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=LONDON), tick=False):
        first = buy(personas.alice, 60, "in")
    with time_machine.travel(datetime(2026, 6, 3, 12, tzinfo=LONDON), tick=False):
        buy(personas.alice, 60, "out")
    with time_machine.travel(datetime(2026, 6, 1, 13, tzinfo=LONDON), tick=False):
        buy(personas.sam, 60, "suffolk")
    day = date(2026, 6, 1)
    rows = list(export_rows(circle=personas.southwark, since=day, until=day))
    assert [(r[0], r[1], r[2], r[3], r[-1]) for r in rows] == [
        ("2026-06-01", "12:00:00", first, "purchase", -60),
        ("2026-06-01", "12:00:00", first, "purchase", 60),
    ]


def test_a_coordinators_check_is_kept_and_audited(personas: Personas) -> None:
    buy(personas.alice, 60, "a")
    caller = caller_for(user=personas.cora.user, circle=personas.southwark)
    run = audit_run_create(circle=personas.southwark, caller=caller)
    assert run.ok
    assert run.checked_transactions == 1
    assert audit_run_latest(circle=personas.southwark) == run
    assert audit_run_latest(circle=personas.suffolk) is None
    event = AuditEvent.objects.get(action="tokens.audit_run")
    assert event.actor == personas.cora.user
    # A later run over every circle speaks for each of them.
    everyone = audit_run_create(circle=None)
    assert audit_run_latest(circle=personas.suffolk) == everyone
    assert AuditRun.objects.count() == 2
