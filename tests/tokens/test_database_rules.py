"""The ledger's invariants are held by the database itself, not only by tokens/services.py.

Each test writes raw SQL through Django's own connection, as a careless script or a bug in some
other code would, and shows that the database refuses it and that nothing was left behind.

PostgreSQL checks a transaction's balance with deferred constraint triggers that fire at COMMIT,
so there these tests run with `transaction=True`: each write is committed for real (or refused).
SQLite has no deferred triggers; there the rule is carried by the order of writing (entries
first, then the transaction row, whose insert trigger checks them; see tokens/ledger_sql.py), and
`write_raw` writes in that order. Its triggers fire at each insert, so on SQLite the tests run in
the usual rolled-back test transaction (which also spares the flush of `transaction=True`: it
deletes rows, and the append-only triggers refuse that). A rule that exists on both databases
is tested on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from members.models import AuditEvent
from tests.conftest import Personas
from tokens.models import Account, AccountKind, Entry, LedgerTransaction
from tokens.selectors import ledger_audit
from tokens.services import (
    purchase_credit,
    reversal_create,
    system_account_id,
    wallet_id,
)

F = TypeVar("F", bound=Callable[..., Any])

ON_POSTGRES = connection.vendor == "postgresql"


def postgres_only(test: F) -> F:
    marked = pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL trigger")(test)
    return pytest.mark.postgres(marked)


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own rule")

# On PostgreSQL every write below is committed for real: its checks run at COMMIT.
committed = pytest.mark.django_db(transaction=ON_POSTGRES)


# --- Writing by hand --------------------------------------------------------------------------


def _now() -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _insert_transaction(
    cursor: Any,
    *,
    circle_id: int,
    key: str,
    kind: str = "adjustment",
    reverses_id: int | None = None,
    tx_id: int | None = None,
) -> int:
    values = [circle_id, kind, "by hand", key, None, None, reverses_id]
    # A transaction bears the time its database transaction began (PostgreSQL refuses entries
    # for one that claims another time); SQLite has no such clock rule.
    # (Built from two literals, never from input: hence the noqa on the queries below.)
    stamp = "transaction_timestamp()" if ON_POSTGRES else "%s"
    if not ON_POSTGRES:
        values.append(_now())
    if tx_id is None:
        cursor.execute(
            "INSERT INTO tokens_transaction (circle_id, kind, memo, idempotency_key, member_id, "  # noqa: S608
            f"actor_id, reverses_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, {stamp}) "
            "RETURNING id",
            values,
        )
        return int(cursor.fetchone()[0])
    cursor.execute(
        "INSERT INTO tokens_transaction (id, circle_id, kind, memo, idempotency_key, member_id, "  # noqa: S608
        f"actor_id, reverses_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, {stamp})",
        [tx_id, *values],
    )
    return tx_id


def _insert_entries(cursor: Any, tx_id: int, legs: Sequence[tuple[int, int]]) -> None:
    for account_id, minutes in legs:
        cursor.execute(
            "INSERT INTO tokens_entry (transaction_id, account_id, minutes) VALUES (%s, %s, %s)",
            [tx_id, account_id, minutes],
        )


def _next_transaction_id(cursor: Any) -> int:
    cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM tokens_transaction")
    return int(cursor.fetchone()[0])


def write_raw(
    *,
    circle_id: int,
    legs: Sequence[tuple[int, int]],
    key: str = "by-hand",
    kind: str = "adjustment",
    reverses_id: int | None = None,
) -> int:
    """One ledger transaction written in raw SQL and committed, in the order each database's
    rules expect of an honest writer (PostgreSQL: the row, then its entries; SQLite: the
    entries, then the row)."""
    assert not (ON_POSTGRES and connection.in_atomic_block), "the write must really commit"
    with transaction.atomic(), connection.cursor() as cursor:
        if ON_POSTGRES:
            tx_id = _insert_transaction(
                cursor, circle_id=circle_id, key=key, kind=kind, reverses_id=reverses_id
            )
            _insert_entries(cursor, tx_id, legs)
        else:
            tx_id = _next_transaction_id(cursor)
            _insert_entries(cursor, tx_id, legs)
            _insert_transaction(
                cursor,
                circle_id=circle_id,
                key=key,
                kind=kind,
                reverses_id=reverses_id,
                tx_id=tx_id,
            )
    return tx_id


def commit(write: Callable[[Any], object]) -> None:
    """Run `write(cursor)` in a transaction of its own and commit it."""
    assert not (ON_POSTGRES and connection.in_atomic_block), "the write must really commit"
    with transaction.atomic(), connection.cursor() as cursor:
        write(cursor)


def execute_committed(sql: str, params: Sequence[Any] | dict[str, Any]) -> None:
    commit(lambda cursor: cursor.execute(sql, params))


# --- What the tests look at -------------------------------------------------------------------


def snapshot() -> dict[str, Any]:
    """Everything a write to the ledger could change."""
    return {
        "transactions": LedgerTransaction.objects.count(),
        "entries": list(Entry.objects.order_by("id").values_list("id", "account_id", "minutes")),
        "audit": AuditEvent.objects.count(),
        "balances": dict(Account.objects.values_list("id", "balance")),
    }


@dataclass
class Accounts:
    """Southwark's accounts (Alice's and Bob's wallets and the system accounts), and Suffolk's
    issuance and Sam's wallet, all empty."""

    southwark: int
    alice: int
    bob: int
    issuance: int
    pot: int
    escrow: int
    adjustments: int
    suffolk: int
    sam: int
    suffolk_issuance: int


@dataclass
class Books(Accounts):
    """The same accounts after Alice bought 100 minutes (purchase `purchase_id`)."""

    purchase_id: int


@pytest.fixture
def accounts(personas: Personas) -> Accounts:
    southwark, suffolk = personas.southwark, personas.suffolk
    return Accounts(
        southwark=southwark.pk,
        alice=wallet_id(personas.alice),
        bob=wallet_id(personas.bob),
        issuance=system_account_id(southwark.pk, AccountKind.ISSUANCE),
        pot=system_account_id(southwark.pk, AccountKind.POT),
        escrow=system_account_id(southwark.pk, AccountKind.ESCROW),
        adjustments=system_account_id(southwark.pk, AccountKind.ADJUSTMENTS),
        suffolk=suffolk.pk,
        sam=wallet_id(personas.sam),
        suffolk_issuance=system_account_id(suffolk.pk, AccountKind.ISSUANCE),
    )


@pytest.fixture
def books(accounts: Accounts, personas: Personas) -> Books:
    posted = purchase_credit(member=personas.alice, minutes=100, payment_key="cash-1", actor=None)
    return Books(**vars(accounts), purchase_id=posted.transaction_id)


def balance(account_id: int) -> int:
    return Account.objects.values_list("balance", flat=True).get(pk=account_id)


# --- A balanced transaction by hand is accepted (so the refusals below are the rules') ------


@committed
def test_balanced_transaction_written_by_hand_is_accepted(books: Books) -> None:
    before = snapshot()

    tx_id = write_raw(circle_id=books.southwark, legs=[(books.adjustments, -30), (books.bob, 30)])

    assert LedgerTransaction.objects.count() == before["transactions"] + 1
    assert sorted(
        Entry.objects.filter(transaction_id=tx_id).values_list("account_id", "minutes")
    ) == sorted([(books.adjustments, -30), (books.bob, 30)])
    assert balance(books.bob) == 30
    assert balance(books.adjustments) == -30


# --- Every transaction sums to zero over two or more entries ----------------------------------


@committed
@pytest.mark.parametrize(
    "legs",
    [
        pytest.param(lambda b: [(b.issuance, -10), (b.bob, 5)], id="two-entries-not-summing-to-0"),
        pytest.param(lambda b: [(b.issuance, -10), (b.bob, 11)], id="more-in-than-out"),
        pytest.param(lambda b: [(b.bob, 10)], id="a-single-entry"),
        pytest.param(lambda b: [(b.issuance, -10)], id="a-single-debit"),
    ],
)
def test_unbalanced_transaction_is_refused_at_commit(
    books: Books, legs: Callable[[Books], list[tuple[int, int]]]
) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match="unbalanced"):
        write_raw(circle_id=books.southwark, legs=legs(books))

    assert snapshot() == before


@committed
def test_transaction_with_no_entries_is_refused_at_commit(books: Books) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match=r"no entries|unbalanced"):
        write_raw(circle_id=books.southwark, legs=[])

    assert snapshot() == before


@committed
def test_entry_in_another_circle_is_refused(books: Books) -> None:
    before = snapshot()

    # Southwark's issuance pays Sam, who is in Suffolk: balanced, but across circles.
    with pytest.raises(IntegrityError, match="another circle"):
        write_raw(circle_id=books.southwark, legs=[(books.issuance, -10), (books.sam, 10)])

    assert snapshot() == before


@committed
def test_transaction_in_one_circle_moving_another_circles_minutes_is_refused(
    books: Books,
) -> None:
    before = snapshot()

    # Both accounts are Suffolk's, but the transaction says Southwark.
    with pytest.raises(IntegrityError, match="another circle"):
        write_raw(circle_id=books.southwark, legs=[(books.suffolk_issuance, -10), (books.sam, 10)])

    assert snapshot() == before


@committed
def test_single_entry_added_to_a_written_transaction_is_refused(books: Books) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match=r"unbalanced|already written"):
        commit(lambda cursor: _insert_entries(cursor, books.purchase_id, [(books.bob, 10)]))

    assert snapshot() == before


@committed
def test_balanced_entries_added_to_a_written_transaction_are_refused(books: Books) -> None:
    # Balanced, so only the rule that a written transaction is closed can refuse them.
    legs = [(books.issuance, -50), (books.bob, 50)]
    before = snapshot()

    with pytest.raises(IntegrityError, match="already written"):
        commit(lambda cursor: _insert_entries(cursor, books.purchase_id, legs))

    assert snapshot() == before


# Committed for real on SQLite too: its foreign keys are deferred to COMMIT as well. (With no
# ledger rows left behind, the flush after the test has nothing the triggers refuse to delete.)
@pytest.mark.django_db(transaction=True)
def test_entries_whose_transaction_never_arrives_fail_at_commit(accounts: Accounts) -> None:
    before = snapshot()

    missing = LedgerTransaction.objects.order_by("-id").values_list("id", flat=True).first() or 0
    missing += 1000
    # Balanced and in one circle: only the missing transaction row is wrong.
    legs = [(accounts.issuance, -10), (accounts.bob, 10)]

    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        commit(lambda cursor: _insert_entries(cursor, missing, legs))

    assert snapshot() == before


@sqlite_only
@committed
def test_sqlite_transaction_row_written_before_its_entries_is_refused(books: Books) -> None:
    # SQLite checks the entries when the transaction row arrives, so the row must come last.
    before = snapshot()

    def row_first(cursor: Any) -> None:
        tx_id = _insert_transaction(cursor, circle_id=books.southwark, key="row-first")
        _insert_entries(cursor, tx_id, [(books.issuance, -10), (books.bob, 10)])

    with pytest.raises(IntegrityError, match="unbalanced"):
        commit(row_first)

    assert snapshot() == before


# --- Entries and transactions are never changed -----------------------------------------------


@committed
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tokens_entry SET minutes = minutes * 2 WHERE transaction_id = %(tx)s",
        "UPDATE tokens_entry SET account_id = %(bob)s "
        "WHERE transaction_id = %(tx)s AND minutes > 0",
        "DELETE FROM tokens_entry WHERE transaction_id = %(tx)s",
        "DELETE FROM tokens_entry WHERE transaction_id = %(tx)s AND minutes > 0",
    ],
    ids=["update-minutes", "update-account", "delete-all", "delete-one"],
)
def test_entries_cannot_be_updated_or_deleted(books: Books, sql: str) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match="append-only"):
        execute_committed(sql, {"tx": books.purchase_id, "bob": books.bob})

    assert snapshot() == before
    assert balance(books.alice) == 100


@committed
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tokens_transaction SET memo = 'changed' WHERE id = %(tx)s",
        "UPDATE tokens_transaction SET circle_id = %(suffolk)s WHERE id = %(tx)s",
        "DELETE FROM tokens_transaction WHERE id = %(tx)s",
    ],
    ids=["update-memo", "update-circle", "delete"],
)
def test_transactions_cannot_be_updated_or_deleted(books: Books, sql: str) -> None:
    before = snapshot()
    memo = LedgerTransaction.objects.get(pk=books.purchase_id).memo

    with pytest.raises(IntegrityError, match="append-only"):
        execute_committed(sql, {"tx": books.purchase_id, "suffolk": books.suffolk})

    assert snapshot() == before
    tx = LedgerTransaction.objects.get(pk=books.purchase_id)
    assert (tx.memo, tx.circle_id) == (memo, books.southwark)


# --- Balances follow the entries and nothing else ---------------------------------------------


@postgres_only
@committed
@pytest.mark.parametrize("minutes", [100, -50])
def test_postgres_refuses_a_direct_update_of_a_balance(books: Books, minutes: int) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match="only through ledger entries"):
        execute_committed(
            "UPDATE tokens_account SET balance = balance + %s WHERE id = %s",
            [minutes, books.alice],
        )

    assert snapshot() == before


@postgres_only
@committed
def test_postgres_refuses_moving_an_account_to_another_owner(books: Books) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match="cannot change owner or kind"):
        execute_committed(
            "UPDATE tokens_account SET circle_id = %s WHERE id = %s",
            [books.suffolk, books.pot],
        )

    assert snapshot() == before


@sqlite_only
@pytest.mark.django_db
@pytest.mark.ledger_may_break
def test_sqlite_direct_update_of_a_balance_is_reported_by_the_audit(books: Books) -> None:
    # SQLite cannot tell a trigger's UPDATE from anyone else's, so it cannot refuse this one;
    # the audit (and `manage.py ledger_audit`) is what catches it.
    assert ledger_audit().ok

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tokens_account SET balance = balance + 100 WHERE id = %s", [books.alice]
        )

    report = ledger_audit()
    assert not report.ok
    assert f"account {books.alice} (wallet): balance 200 but entries sum to 100" in report.problems
    with pytest.raises(CommandError, match="problem"):
        call_command("ledger_audit")


@committed
def test_account_cannot_open_with_a_balance(books: Books, personas: Personas) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match="open with a zero balance"):
        execute_committed(
            "INSERT INTO tokens_account (circle_id, kind, member_id, balance, created_at) "
            "VALUES (%s, 'wallet', %s, 500, %s)",
            [books.southwark, personas.otto.pk, _now()],
        )

    assert snapshot() == before
    assert not Account.objects.filter(member=personas.otto).exists()


@committed
@pytest.mark.parametrize(
    "legs",
    [
        pytest.param(lambda b: [(b.alice, -101), (b.issuance, 101)], id="wallet-overdrawn"),
        pytest.param(lambda b: [(b.alice, -101), (b.bob, 101)], id="gift-of-more-than-owned"),
        pytest.param(lambda b: [(b.pot, -10), (b.bob, 10)], id="empty-pot"),
        pytest.param(lambda b: [(b.escrow, -10), (b.bob, 10)], id="empty-escrow"),
    ],
)
def test_entry_driving_an_account_below_zero_is_refused(
    books: Books, legs: Callable[[Books], list[tuple[int, int]]]
) -> None:
    before = snapshot()

    with pytest.raises(IntegrityError, match="tokens_account_not_negative"):
        write_raw(circle_id=books.southwark, legs=legs(books))

    assert snapshot() == before
    assert balance(books.alice) == 100


@committed
def test_wallet_can_be_emptied_to_exactly_zero(books: Books) -> None:
    write_raw(circle_id=books.southwark, legs=[(books.alice, -100), (books.bob, 100)])

    assert (balance(books.alice), balance(books.bob)) == (0, 100)


# --- A transaction is reversed at most once ---------------------------------------------------


@committed
def test_second_reversal_of_one_transaction_is_refused(books: Books, personas: Personas) -> None:
    # Alice holds enough for the second reversal's entries, so only the reversal rule can refuse.
    purchase_credit(member=personas.alice, minutes=100, payment_key="cash-2", actor=None)
    original = LedgerTransaction.objects.get(pk=books.purchase_id)
    reversal_create(original=original, reason="paid by mistake", actor=personas.cora.user)
    before = snapshot()

    with pytest.raises(IntegrityError, match="reverses_id"):
        write_raw(
            circle_id=books.southwark,
            legs=[(books.alice, -100), (books.issuance, 100)],
            key="reversal:by-hand",
            kind="reversal",
            reverses_id=books.purchase_id,
        )

    assert snapshot() == before
    assert LedgerTransaction.objects.filter(reverses_id=books.purchase_id).count() == 1
    assert balance(books.alice) == 100
