"""The coordinators' reads of a circle's books (selectors, kept apart from tokens/selectors.py so
that each stays a size a reader can hold): the accounts by kind, the last audit's verdict,
transactions filtered and paged by keyset, each day's totals, one transaction with its entries,
a member's statement paged by keyset, and the rows of the accountant's export.

Paging is by keyset, never OFFSET: a page is "the `limit` rows before (created_at, id)" on
the index (circle, created_at DESC, id DESC), so the millionth row costs what the first does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate

from circle.models import Circle
from members.models import AuditEvent, Member
from tokens.memos import ENTRY_MEMO_SHOWN, MEMO_SHOWN, memos_describe, rows_describe
from tokens.models import (
    Account,
    AccountKind,
    AuditRun,
    Entry,
    LedgerTransaction,
)
from tokens.selectors import StatementLine, statement_lines

LONDON = ZoneInfo("Europe/London")
EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


# --- The accounts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Books:
    """The circle's accounts as a trial balance: each system account, the wallets together."""

    balances: dict[str, int]  # by account kind; "wallet" is every wallet's total
    wallets: int  # how many wallets

    def of(self, kind: str) -> int:
        return self.balances.get(kind, 0)

    @property
    def total(self) -> int:
        """Always 0 while the ledger holds (each transaction sums to zero)."""
        return sum(self.balances.values())


def books_summary(*, circle: Circle) -> Books:
    """Every account kind's balance and count: one statement (a GROUP BY over the circle's
    accounts), however many members."""
    rows = (
        Account.objects.filter(circle=circle)
        .values("kind")
        .annotate(total=Sum("balance"), n=Count("id"))
        .values_list("kind", "total", "n")
    )
    balances = {kind: 0 for kind in AccountKind.values}
    wallets = 0
    for kind, total, n in rows:
        balances[kind] = int(total or 0)
        if kind == AccountKind.WALLET:
            wallets = n
    return Books(balances=balances, wallets=wallets)


def audit_run_latest(*, circle: Circle) -> AuditRun | None:
    """The last verdict on this circle's books: a run over this circle or over every circle."""
    return (
        AuditRun.objects.filter(Q(circle=circle) | Q(circle__isnull=True))
        .select_related("actor")
        .order_by("-ran_at", "-id")
        .first()
    )


# --- Transactions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransactionFilters:
    """What the coordinator asked for. Dates are London days, both ends included."""

    since: date | None = None
    until: date | None = None
    kind: str = ""
    member_id: int | None = None
    min_minutes: int | None = None
    max_minutes: int | None = None

    @property
    def any(self) -> bool:
        return any(
            value not in (None, "")
            for value in (
                self.since,
                self.until,
                self.kind,
                self.member_id,
                self.min_minutes,
                self.max_minutes,
            )
        )


def day_start(day: date) -> datetime:
    """Midnight in London at the start of `day` (an aware datetime)."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)


@dataclass(frozen=True)
class Cursor:
    """A place in the list: the (created_at, id) of the row a page starts after."""

    created_at: datetime
    id: int

    def token(self) -> str:
        """As the page's link carries it: microseconds since 1970, a dot, the id."""
        return f"{(self.created_at - EPOCH) // timedelta(microseconds=1)}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        micros, _, tx_id = (text or "").partition(".")
        if not (micros.lstrip("-").isdigit() and tx_id.isdigit()):
            return None
        try:
            return cls(EPOCH + timedelta(microseconds=int(micros)), int(tx_id))
        except OverflowError:
            return None


def _amount() -> Subquery:
    """A transaction's size: the minutes its entries move in (the sum of its positive entries,
    which its negative ones mirror)."""
    return Subquery(
        Entry.objects.filter(transaction_id=OuterRef("pk"), minutes__gt=0)
        .values("transaction_id")
        .annotate(s=Sum("minutes"))
        .values("s"),
        output_field=IntegerField(),
    )


def transactions_filtered(
    *, circle: Circle, filters: TransactionFilters
) -> QuerySet[LedgerTransaction]:
    """The circle's transactions that match, with their size (`amount`), unordered."""
    transactions = LedgerTransaction.objects.filter(circle=circle)
    if filters.since is not None:
        transactions = transactions.filter(created_at__gte=day_start(filters.since))
    if filters.until is not None:
        transactions = transactions.filter(
            created_at__lt=day_start(filters.until + timedelta(days=1))
        )
    if filters.kind:
        transactions = transactions.filter(kind=filters.kind)
    if filters.member_id is not None:
        # Every transaction that touched the member's wallet (a gift to them too), through the
        # index (account, id): a semi-join, so a member's few hundred entries are all it reads.
        transactions = transactions.filter(
            pk__in=Entry.objects.filter(account__member_id=filters.member_id).values(
                "transaction_id"
            )
        )
    transactions = transactions.annotate(amount=_amount())
    if filters.min_minutes is not None:
        transactions = transactions.filter(amount__gte=filters.min_minutes)
    if filters.max_minutes is not None:
        transactions = transactions.filter(amount__lte=filters.max_minutes)
    return transactions


@dataclass
class TransactionPage:
    rows: list[dict[str, Any]]
    older: Cursor | None  # where the next (older) page starts, if there is one
    newer: Cursor | None  # where the previous (newer) page ends, if there is one


def transaction_page(
    *,
    circle: Circle,
    filters: TransactionFilters,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = 50,
) -> TransactionPage:
    """One page of matching transactions, newest first: those older than `before`, or (going
    back) the newest `limit` of those newer than `after`, or the first page. Each row: id,
    kind, memo, member_id, member_name, reverses_id, reversed_by (the reversal's id), amount,
    created_at; then `transaction_lines` reads their entries. One statement for the page."""
    transactions = transactions_filtered(circle=circle, filters=filters).annotate(
        member_name=F("member__full_name"),
        reversed_by=Subquery(
            LedgerTransaction.objects.filter(reverses_id=OuterRef("pk")).values("pk")[:1]
        ),
    )
    # The keyset: (created_at, id) < (t, i), written as created_at <= t AND (created_at < t OR
    # id < i) so that the first half is a range on the index whatever the database.
    if after is not None:
        transactions = transactions.filter(
            Q(created_at__gte=after.created_at)
            & (Q(created_at__gt=after.created_at) | Q(pk__gt=after.id))
        ).order_by("created_at", "id")
    else:
        if before is not None:
            transactions = transactions.filter(
                Q(created_at__lte=before.created_at)
                & (Q(created_at__lt=before.created_at) | Q(pk__lt=before.id))
            )
        transactions = transactions.order_by("-created_at", "-id")
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in transactions.values(
            "id",
            "kind",
            "member_id",
            "member_name",
            "reverses_id",
            "reversed_by",
            "amount",
            "created_at",
            memo_shown=MEMO_SHOWN,
        )[: limit + 1]
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    rows_describe(rows)
    if after is not None:
        rows.reverse()
        # Going back: more rows beyond these are newer still; older ones are where we came from.
        newer = _cursor(rows[0]) if more and rows else None
        older = _cursor(rows[-1]) if rows else None
        return TransactionPage(rows=rows, older=older, newer=newer)
    return TransactionPage(
        rows=rows,
        older=_cursor(rows[-1]) if more else None,
        newer=_cursor(rows[0]) if before is not None and rows else None,
    )


def _cursor(row: dict[str, Any]) -> Cursor:
    return Cursor(row["created_at"], row["id"])


@dataclass(frozen=True)
class EntryLine:
    account_id: int
    account_kind: str
    member_id: int | None
    member_name: str | None
    minutes: int


def transaction_lines(*, transaction_ids: list[int]) -> dict[int, list[EntryLine]]:
    """The entries of these transactions, in entry order, by transaction, with each account's
    kind and member: one statement for a page."""
    found: dict[int, list[EntryLine]] = {tx_id: [] for tx_id in transaction_ids}
    if not transaction_ids:
        return found
    rows = (
        Entry.objects.filter(transaction_id__in=transaction_ids)
        .order_by("transaction_id", "id")
        .values_list(
            "transaction_id",
            "account_id",
            "account__kind",
            "account__member_id",
            "account__member__full_name",
            "minutes",
        )
    )
    for tx_id, account_id, kind, member_id, name, minutes in rows:
        found[tx_id].append(EntryLine(account_id, kind, member_id, name, minutes))
    return found


@dataclass(frozen=True)
class DayTotals:
    day: date
    transactions: int
    moved: int  # minutes moved in (the positive entries)
    net: int  # the day's entries summed: 0, as every transaction's are
    by_kind: dict[str, int]  # minutes moved, by transaction kind


# The most days the day totals cover at once: a month, enough to see one day stand out. Without
# a first day, a week: at a million transactions a year a month is some 85,000 transactions and
# 170,000 entries to sum, most of a second (bench/coordinator.py); a week is a quarter of that.
DAYS_SHOWN = 31
DAYS_DEFAULT = 7


def day_totals(*, circle: Circle, filters: TransactionFilters) -> list[DayTotals]:
    """For each London day of the filtered range (at most DAYS_SHOWN days, ending at `until`
    or today; without `since`, the last DAYS_DEFAULT), the number of transactions, the minutes
    moved in by kind, and the day's net (0 unless the books are broken): one statement, newest
    day first. A day whose movements
    stand out (a large adjustment, a run of reversals) is seen at a glance, then opened."""
    until = filters.until or datetime.now(LONDON).date()
    since = max(
        filters.since or until - timedelta(days=DAYS_DEFAULT - 1),
        until - timedelta(days=DAYS_SHOWN - 1),
    )
    bounded = TransactionFilters(
        since=since,
        until=until,
        kind=filters.kind,
        member_id=filters.member_id,
        min_minutes=filters.min_minutes,
        max_minutes=filters.max_minutes,
    )
    transactions = transactions_filtered(circle=circle, filters=bounded).values("pk")
    rows = (
        Entry.objects.filter(transaction__in=transactions)
        .values(
            day=TruncDate("transaction__created_at", tzinfo=LONDON), kind=F("transaction__kind")
        )
        .annotate(
            n=Count("transaction_id", distinct=True),
            moved=Coalesce(Sum("minutes", filter=Q(minutes__gt=0)), 0),
            net=Sum("minutes"),
        )
        .order_by("-day", "kind")
        .values_list("day", "kind", "n", "moved", "net")
    )
    days: dict[date, DayTotals] = {}
    for day, kind, n, moved, net in rows:
        found = days.get(day)
        if found is None:
            found = days[day] = DayTotals(day=day, transactions=0, moved=0, net=0, by_kind={})
        days[day] = DayTotals(
            day=day,
            transactions=found.transactions + n,
            moved=found.moved + int(moved),
            net=found.net + int(net),
            by_kind={**found.by_kind, kind: int(moved)},
        )
    return list(days.values())


@dataclass(frozen=True)
class TransactionDetail:
    transaction: LedgerTransaction
    lines: list[EntryLine]
    reversed_by: LedgerTransaction | None
    reason: str  # why staff made it (an adjustment's, a grant's, a reversal's reason)
    amount: int


def transaction_detail(*, circle: Circle, transaction_id: int) -> TransactionDetail | None:
    """One transaction of the circle (None for another circle's, or none): who made it, for
    whom, its entries, what it reverses and what reversed it, and the reason given."""
    tx = (
        LedgerTransaction.objects.filter(circle=circle, pk=transaction_id)
        .select_related("member", "actor", "reverses")
        .first()
    )
    if tx is None:
        return None
    lines = transaction_lines(transaction_ids=[tx.pk])[tx.pk]
    reversed_by = (
        LedgerTransaction.objects.filter(reverses_id=tx.pk).select_related("actor").first()
    )
    # The audit row is written with the transaction, a moment apart (Python's clock and the
    # database's): a window on the audit log's (circle, created_at) index finds it at once.
    reason = (
        AuditEvent.objects.filter(
            circle=circle,
            created_at__gte=tx.created_at - timedelta(minutes=5),
            created_at__lte=tx.created_at + timedelta(minutes=5),
            data__transaction_id=tx.pk,
        )
        .values_list("reason", flat=True)
        .first()
        or ""
    )
    amount = sum(line.minutes for line in lines if line.minutes > 0)
    return TransactionDetail(
        transaction=tx, lines=lines, reversed_by=reversed_by, reason=reason, amount=amount
    )


# --- A member's statement ---------------------------------------------------------------------


@dataclass
class StatementPage:
    account_id: int | None
    balance: int
    lines: list[StatementLine]
    older: int | None  # the entry id the next (older) page starts before


def statement_page(*, member: Member, before: int | None = None, limit: int = 50) -> StatementPage:
    """The member's wallet lines, newest first, each with the balance after it, paged by entry
    id (keyset): the lines before entry `before`. The running balance is the wallet's balance
    less everything at or after `before` (one sum over the newer entries, on the index)."""
    account = Account.objects.filter(member=member).values_list("pk", "balance").first()
    if account is None:
        return StatementPage(account_id=None, balance=0, lines=[], older=None)
    account_id, current = account
    entries = Entry.objects.filter(account_id=account_id)
    balance = current
    if before is not None:
        newer = entries.filter(id__gte=before).aggregate(t=Sum("minutes"))["t"] or 0
        balance -= newer
        entries = entries.filter(id__lt=before)
    page = list(
        entries.select_related("transaction")
        .annotate(memo_shown=ENTRY_MEMO_SHOWN)
        .order_by("-id")[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    lines = statement_lines(member=member, entries=page, balance=balance)
    return StatementPage(
        account_id=account_id,
        balance=current,
        lines=lines,
        older=page[-1].pk if more else None,
    )


# --- The accountant's export ------------------------------------------------------------------

EXPORT_COLUMNS = (
    "date",
    "time",
    "transaction",
    "kind",
    "memo",
    "reverses",
    "for_member_id",
    "account_id",
    "account",
    "account_member_id",
    "account_member",
    "minutes",
)


def export_rows(*, circle: Circle, since: date, until: date) -> Iterator[tuple[Any, ...]]:
    """One row per entry (debit or credit) of every transaction in the London days `since` to
    `until`, oldest first, in transaction order: what an accountant checks a double-entry
    ledger by (each transaction's rows sum to zero). Read with a server-side cursor in chunks
    (PostgreSQL), so memory stays flat however many rows."""
    rows = (
        Entry.objects.filter(
            transaction__circle=circle,
            transaction__created_at__gte=day_start(since),
            transaction__created_at__lt=day_start(until + timedelta(days=1)),
        )
        .annotate(memo_shown=ENTRY_MEMO_SHOWN)
        .order_by("transaction__created_at", "transaction_id", "id")
        .values_list(
            "transaction__created_at",
            "transaction_id",
            "transaction__kind",
            "memo_shown",
            "transaction__reverses_id",
            "transaction__member_id",
            "account_id",
            "account__kind",
            "account__member_id",
            "account__member__full_name",
            "minutes",
        )
    )
    # Memos are read through their redactions, and a memo naming a task shows its title:
    # described a chunk at a time (one query a chunk at most), so memory stays flat.
    chunk: list[tuple[Any, ...]] = []
    for row in rows.iterator(chunk_size=2000):
        chunk.append(row)
        if len(chunk) == 2000:
            yield from _export_chunk(chunk)
            chunk = []
    yield from _export_chunk(chunk)


def _export_chunk(chunk: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    memos = memos_describe((row[1], row[3] or "") for row in chunk)
    for created_at, tx_id, kind, _memo, *rest in chunk:
        local = created_at.astimezone(LONDON)
        yield (
            local.date().isoformat(),
            local.strftime("%H:%M:%S"),
            tx_id,
            kind,
            memos[tx_id],
            *rest,
        )
