"""Reads of the ledger: a member's tokens and statement, a circle's books, and the audit that
proves the books hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from circle.errors import NotFound
from circle.models import Circle
from circle.periods import ReportPeriod, local_date
from circle.sql import aware, prepared_execute
from circle.words import token_count
from members.models import AuditEvent, Member, User
from members.selectors import Caller, coordinator_access
from tokens.memos import memos_describe
from tokens.models import (
    NEVER_NEGATIVE,
    Account,
    AccountKind,
    Approval,
    ApprovalStatus,
    Entry,
    Hold,
    HoldStatus,
    LedgerTransaction,
    MemoRedaction,
    TransactionKind,
)


@dataclass(frozen=True)
class TokenQuantity:
    """An amount of the ledger as people read it: minutes of help, and the tokens they make at
    the circle's price (`minutes / token_minutes`, to two places, half up)."""

    minutes: int
    tokens: Decimal

    def as_json(self) -> dict[str, Any]:
        """DESIGN.md's token quantity: {"minutes": 90, "tokens": "1.50"}."""
        return {"minutes": self.minutes, "tokens": str(self.tokens)}


def token_quantity(minutes: int, *, circle: Circle) -> TokenQuantity:
    return TokenQuantity(
        minutes=minutes, tokens=token_count(minutes, token_minutes=circle.token_minutes)
    )


@dataclass(frozen=True)
class Tokens:
    balance: int  # everything the member owns: available plus held
    held: int  # in escrow for booked tasks
    available: int  # what they can spend or hold now: their wallet


def member_available(*, member: Member) -> int:
    """What the member can spend or hold now: their wallet's balance (held minutes are in
    escrow already). One read, for a write that needs no more than this."""
    return Account.objects.filter(member=member).values_list("balance", flat=True).first() or 0


# The wallet's balance and the open holds' sum in one statement. Plain SQL: the two ORM reads
# it replaces cost 0.7 ms of CPU to build (the load bench's members read it on every home page),
# the statement itself a few hundredths.
_MEMBER_TOKENS_SQL = """
SELECT (SELECT a.balance FROM tokens_account a WHERE a.member_id = %(member)s
         ORDER BY a.id LIMIT 1),
       (SELECT COALESCE(SUM(h.minutes), 0) FROM tokens_hold h
         WHERE h.member_id = %(member)s AND h.status = %(open)s)
"""


def member_tokens(*, member: Member) -> Tokens:
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_TOKENS_SQL, {"member": member.pk, "open": HoldStatus.OPEN.value})
        wallet, held = cursor.fetchone()
    wallet, held = int(wallet or 0), int(held or 0)
    return Tokens(balance=wallet + held, held=held, available=wallet)


def wallet_earnings(*, member: Member) -> int:
    """The minutes a volunteer's wallet has earned by helping: what settled tasks of other
    members paid into it. One statement, whatever the number of tasks. A settle also pays
    back, into the wallet of the member who asked for help, what their hold did not use: that
    is not earnings, so a settle done for this member does not count. (Settles are never
    reversed: a task's money is undone through the task, see tokens.services.reversal_create.)"""
    earned = Entry.objects.filter(
        account__member=member, transaction__kind=TransactionKind.SETTLE
    ).exclude(transaction__member_id=member.pk)
    return int(earned.aggregate(t=Sum("minutes"))["t"] or 0)


@dataclass(frozen=True)
class StatementLine:
    id: int
    created_at: datetime
    kind: str
    description: str
    minutes: int
    balance: int
    transaction_id: int


# A member's wallet (their one account: `Account.member` is one-to-one), its balance and its
# number of entries.
_WALLET_COUNT_SQL = (
    f"SELECT a.id, a.balance, (SELECT COUNT(*) FROM {Entry._meta.db_table} e "  # noqa: S608
    "WHERE e.account_id = a.id) "
    f"FROM {Account._meta.db_table} a WHERE a.member_id = %s"
)


def member_statement(*, member: Member, limit: int, offset: int) -> tuple[int, list[StatementLine]]:
    """The wallet's entries, newest first, each with the wallet's balance after it."""
    # The wallet and its number of entries in one plain statement: as two ORM queries (the
    # wallet as a model, then its COUNT) they were a fifth of the request's time, most of it
    # Django compiling them.
    with connection.cursor() as cursor:
        cursor.execute(_WALLET_COUNT_SQL, [member.pk])
        found = cursor.fetchone()
    if found is None:
        return 0, []
    account_id, account_balance, count = found
    # The running balance is the account's balance less everything that came after: read the
    # page newest first and walk back from the current balance, so no window over the whole
    # history is needed.
    balance = account_balance - _sum_newest(account_id=account_id, n=offset)
    return count, statement_lines(
        member=member,
        entries=_wallet_page(account_id=account_id, limit=limit, offset=offset),
        balance=balance,
    )


_ENTRY_FIELDS = [f.attname for f in Entry._meta.concrete_fields]
_ENTRY_COLUMNS = [f.column for f in Entry._meta.concrete_fields]
_TX_FIELDS = [f.attname for f in LedgerTransaction._meta.concrete_fields]
_TX_COLUMNS = [f.column for f in LedgerTransaction._meta.concrete_fields]
_TX_CREATED_AT = _TX_FIELDS.index("created_at")
# A page of a wallet's entries, newest first, each with its transaction and its memo as shown
# (through its redaction, as ENTRY_MEMO_SHOWN reads it). Plain SQL made into the same model
# instances the ORM's `select_related("transaction")` makes: compiling that query was most of
# a short statement's time.
_WALLET_PAGE_SQL = (
    "SELECT "  # noqa: S608 (names from the models' _meta; values are parameters)
    + ", ".join(f"e.{column}" for column in _ENTRY_COLUMNS)
    + ", "
    + ", ".join(f"t.{column}" for column in _TX_COLUMNS)
    + ", COALESCE(r.memo, t.memo)"
    + f" FROM {Entry._meta.db_table} e"
    + f" JOIN {LedgerTransaction._meta.db_table} t ON t.id = e.transaction_id"
    + f" LEFT JOIN {MemoRedaction._meta.db_table} r ON r.transaction_id = t.id"
    + " WHERE e.account_id = %s ORDER BY e.id DESC LIMIT %s OFFSET %s"
)


def _wallet_page(*, account_id: int, limit: int, offset: int) -> list[Entry]:
    with connection.cursor() as cursor:
        cursor.execute(_WALLET_PAGE_SQL, [account_id, limit, offset])
        rows = cursor.fetchall()
    entries = []
    n = len(_ENTRY_FIELDS)
    transaction_field = Entry._meta.get_field("transaction")
    for row in rows:
        entry = Entry.from_db(connection.alias, _ENTRY_FIELDS, row[:n])
        values = list(row[n : n + len(_TX_FIELDS)])
        values[_TX_CREATED_AT] = aware(values[_TX_CREATED_AT])
        tx = LedgerTransaction.from_db(connection.alias, _TX_FIELDS, values)
        transaction_field.set_cached_value(entry, tx)
        setattr(entry, "memo_shown", row[-1])  # noqa: B010 (as ENTRY_MEMO_SHOWN annotates it)
        entries.append(entry)
    return entries


def statement_lines(
    *, member: Member, entries: Sequence[Entry], balance: int
) -> list[StatementLine]:
    """Statement lines of a wallet's `entries` (newest first, with their transactions, and
    read with `memo_shown=ENTRY_MEMO_SHOWN` so a redacted memo is never seen), each with the
    balance after it, walking back from `balance`, the balance after the first. A memo that
    names a task shows the task's title, read through the task (tokens.memos)."""
    why = _staff_reasons(member=member, entries=entries)
    memos = memos_describe(
        (entry.transaction_id, getattr(entry, "memo_shown", entry.transaction.memo) or "")
        for entry in entries
    )
    lines = []
    for entry in entries:
        tx = entry.transaction
        description = memos[tx.pk] or tx.get_kind_display()
        if tx.pk in why:
            description = f"{description} (moved by staff: {why[tx.pk]})"
        lines.append(
            StatementLine(
                id=entry.pk,
                created_at=tx.created_at,
                kind=tx.kind,
                description=description,
                minutes=entry.minutes,
                balance=balance,
                transaction_id=tx.pk,
            )
        )
        balance -= entry.minutes
    return lines


def _staff_reasons(*, member: Member, entries: Sequence[Entry]) -> dict[int, str]:
    """Why staff moved tokens out of this wallet, by transaction: the reason they had to give
    (tokens/services/movements.py), read from the gift's audit row. Only gifts out of the
    wallet made by someone other than the member are looked up, so a page without any costs
    no query."""
    ids = [
        entry.transaction_id
        for entry in entries
        if entry.minutes < 0
        and entry.transaction.kind == TransactionKind.GIFT
        and entry.transaction.actor_id is not None
        and entry.transaction.actor_id != member.user_id
    ]
    if not ids:
        return {}
    rows = AuditEvent.objects.filter(
        circle_id=member.circle_id,
        member=member,
        action="tokens.gift",
        data__transaction_id__in=ids,
    ).exclude(reason="")
    return {event.data["transaction_id"]: event.reason for event in rows}


def _sum_newest(*, account_id: int, n: int) -> int:
    if n <= 0:
        return 0
    ids = Entry.objects.filter(account_id=account_id).order_by("-id").values("id")[:n]
    return Entry.objects.filter(id__in=ids).aggregate(t=Sum("minutes"))["t"] or 0


_TX = LedgerTransaction._meta.db_table
# The page of a circle's ledger with each transaction's entries (one row per entry, in entry
# order) and the count of every transaction the filters keep (computed once, not per row).
# The memo is read through its redaction (tokens.memos.MEMO_SHOWN): rows_describe makes it
# `memo`. Names from the models' _meta; values are parameters.
_LEDGER_PAGE_SQL = f"""
WITH page AS (
    SELECT t.id, t.kind, t.member_id, t.reverses_id, t.created_at,
           COALESCE(r.memo, t.memo) AS memo_shown
      FROM {_TX} t LEFT JOIN {MemoRedaction._meta.db_table} r ON r.transaction_id = t.id
     WHERE {{where}}
     ORDER BY t.id DESC LIMIT %s OFFSET %s
)
SELECT page.id, page.kind, page.member_id, page.reverses_id, page.created_at, page.memo_shown,
       e.account_id, a.kind, a.member_id, e.minutes,
       (SELECT COUNT(*) FROM {_TX} t WHERE {{where}})
  FROM page
  LEFT JOIN {Entry._meta.db_table} e ON e.transaction_id = page.id
  LEFT JOIN {Account._meta.db_table} a ON a.id = e.account_id
 ORDER BY page.id DESC, e.id
"""  # noqa: S608
_LEDGER_COUNT_SQL = f"SELECT COUNT(*) FROM {_TX} t WHERE {{where}}"  # noqa: S608


class TransactionRows:
    """A circle's transactions, newest first, as the ledger's list pages them (through
    circle.pagination, which slices a page and counts): a page is one plain statement that
    also reads each transaction's entries (`entries`, each as the API shows it: its account's
    id, kind and member) and the count of all, which the page's slice then answers without a
    second query. A page of ORM rows, its entries and its COUNT were three statements, and
    Django compiling them took more of the request than the database running them."""

    def __init__(
        self,
        *,
        circle: Circle,
        account_id: int | None,
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        where = ["t.circle_id = %s"]
        params: list[Any] = [circle.pk]
        # Each combination of filters is its own statement, prepared under its own name.
        self._name = "circle_ledger_page_" + "".join(
            letter
            for letter, given in (("a", account_id), ("s", since), ("u", until))
            if given is not None
        )
        if account_id is not None:
            # A semi-join, not a join with DISTINCT: the count was a DISTINCT over every
            # column of the circle's whole ledger, whether or not an account was named.
            where.append(
                f"t.id IN (SELECT transaction_id FROM {Entry._meta.db_table} "  # noqa: S608
                "WHERE account_id = %s)"
            )
            params.append(account_id)
        # Times as the ORM writes them (SQLite compares them as text).
        adapt = connection.ops.adapt_datetimefield_value
        if since is not None:
            where.append("t.created_at >= %s")
            params.append(adapt(since))
        if until is not None:
            where.append("t.created_at < %s")
            params.append(adapt(until))
        self._where, self._params = " AND ".join(where), params
        self._count: int | None = None

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        offset, stop = window.start or 0, window.stop
        with connection.cursor() as cursor:
            # Prepared once per connection (circle/sql.py): parsed once, not for every page.
            prepared_execute(
                cursor,
                name=self._name,
                sql=_LEDGER_PAGE_SQL.format(where=self._where),
                params=[*self._params, stop - offset, offset, *self._params],
            )
            found = cursor.fetchall()
        rows: list[dict[str, Any]] = []
        for tx_id, kind, member_id, reverses_id, created_at, memo, *entry, count in found:
            if not rows or rows[-1]["id"] != tx_id:
                rows.append(
                    {
                        "id": tx_id,
                        "kind": kind,
                        "member_id": member_id,
                        "reverses_id": reverses_id,
                        "created_at": aware(created_at),
                        "memo_shown": memo,
                        "entries": [],
                    }
                )
            account_id, account_kind, account_member_id, minutes = entry
            if account_id is not None:
                rows[-1]["entries"].append(
                    {
                        "account_id": account_id,
                        "account": account_kind,
                        "member_id": account_member_id,
                        "minutes": minutes,
                    }
                )
            self._count = count
        return rows

    def count(self) -> int:
        if self._count is None:  # an empty page: past the end
            with connection.cursor() as cursor:
                cursor.execute(_LEDGER_COUNT_SQL.format(where=self._where), self._params)
                self._count = int(cursor.fetchone()[0])
        return self._count


def transaction_list(
    *,
    circle: Circle,
    account_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> TransactionRows:
    return TransactionRows(circle=circle, account_id=account_id, since=since, until=until)


def transaction_get(*, circle: Circle, transaction_id: int) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(circle=circle, pk=transaction_id).first()


AccountBalance = tuple[int, str, int | None, str | None, int]
"""An account's (id, kind, member_id, member_name, balance)."""


# A page of the trial balance. The index on (circle, kind, id) gives the order, and each member's
# name is read for the page's rows only: joined, PostgreSQL hashed the whole members table
# (44,000 rows in the load bench, 35 ms) to sort a circle's 2,000 accounts for a page of 50.
_ACCOUNT_PAGE_SQL = """
SELECT a.id, a.kind, a.member_id,
       (SELECT m.full_name FROM members_member m WHERE m.id = a.member_id),
       a.balance
  FROM tokens_account a
 WHERE a.circle_id = %s
 ORDER BY a.kind, a.id
 LIMIT %s OFFSET %s
"""


def account_balances(*, circle: Circle, limit: int, offset: int = 0) -> list[AccountBalance]:
    """A page of the circle's accounts with their balances, by kind then id: one account per
    member, so thousands in all, read a page at a time, as plain tuples."""
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNT_PAGE_SQL, [circle.pk, limit, offset])
        return [tuple(row) for row in cursor.fetchall()]


def account_count_and_total(*, circle: Circle) -> tuple[int, int]:
    """How many accounts the circle has, and the sum of all their balances (the trial
    balance's total, always 0 while the books hold), in one statement."""
    found = Account.objects.filter(circle=circle).aggregate(n=Count("id"), total=Sum("balance"))
    return int(found["n"]), int(found["total"] or 0)


@dataclass
class AuditReport:
    """What `ledger_audit` found. Empty `problems` means the books hold."""

    checked_transactions: int = 0
    checked_accounts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def ledger_audit(*, circle: Circle | None = None) -> AuditReport:
    """Check every invariant of the ledger from the rows themselves, not trusting the triggers:
    each transaction sums to zero over two or more entries within its own circle; each account's
    balance equals the sum of its entries; no wallet, pot or escrow is negative; each circle's
    books total zero; open holds equal what escrow holds; no transaction is reversed twice."""
    report = AuditReport()
    transactions = LedgerTransaction.objects.all()
    accounts = Account.objects.all()
    if circle is not None:
        transactions = transactions.filter(circle=circle)
        accounts = accounts.filter(circle=circle)
    report.checked_transactions = transactions.count()
    report.checked_accounts = accounts.count()

    unbalanced = (
        transactions.annotate(total=Sum("entries__minutes"), n=Count("entries"))
        .filter(Q(n__lt=2) | ~Q(total=0))
        .values_list("id", "total", "n")
    )
    for tx_id, total, n in unbalanced:
        report.problems.append(f"transaction {tx_id}: {n} entries summing to {total or 0}")

    crossing = Entry.objects.exclude(account__circle_id=F("transaction__circle_id"))
    if circle is not None:
        crossing = crossing.filter(transaction__circle=circle)
    for entry_id, tx_id in crossing.values_list("id", "transaction_id"):
        report.problems.append(f"entry {entry_id} of transaction {tx_id} is in another circle")

    drifted = accounts.annotate(total=Sum("entries__minutes")).values_list(
        "id", "kind", "balance", "total"
    )
    for account_id, kind, balance, total in drifted:
        if balance != (total or 0):
            report.problems.append(
                f"account {account_id} ({kind}): balance {balance} but entries sum to {total or 0}"
            )
        if kind in NEVER_NEGATIVE and (total or 0) < 0:
            report.problems.append(f"account {account_id} ({kind}) is negative: {total}")

    circle_totals = accounts.values("circle_id").annotate(total=Sum("balance"))
    for row in circle_totals:
        if row["total"] != 0:
            report.problems.append(f"circle {row['circle_id']}: books total {row['total']}, not 0")

    holds = Hold.objects.filter(status=HoldStatus.OPEN)
    if circle is not None:
        holds = holds.filter(circle=circle)
    held = dict(holds.values("circle_id").annotate(t=Sum("minutes")).values_list("circle_id", "t"))
    escrows = accounts.filter(kind="escrow").values_list("circle_id", "balance")
    for circle_id, balance in escrows:
        if held.get(circle_id, 0) != balance:
            report.problems.append(
                f"circle {circle_id}: escrow holds {balance} but open holds total "
                f"{held.get(circle_id, 0)}"
            )
    for circle_id, total in held.items():
        if total and circle_id not in dict(escrows):
            report.problems.append(f"circle {circle_id}: open holds of {total} and no escrow")

    twice = (
        transactions.filter(reverses__isnull=False)
        .values("reverses_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for reversal in twice:
        report.problems.append(
            f"transaction {reversal['reverses_id']} is reversed {reversal['n']} times"
        )
    return report


# --- Approvals (four eyes) ---------------------------------------------------------------------


def approval_list(*, circle: Circle) -> QuerySet[Approval]:
    """The circle's adjustments and grants waiting for a second coordinator, oldest first."""
    return (
        Approval.objects.filter(circle=circle, status=ApprovalStatus.PENDING)
        .select_related("member", "asked_by")
        .order_by("asked_at", "id")
    )


def approval_access(*, user: User, approval_id: int) -> tuple[Approval, Caller]:
    """An approval of a circle where the caller has a member record (else 404), for its
    coordinators (else 403)."""
    circles = Member.objects.filter(user=user).values("circle_id")
    approval = (
        Approval.objects.select_related("circle", "member", "asked_by", "decided_by")
        .filter(pk=approval_id, circle_id__in=circles)
        .first()
    )
    if approval is None:
        raise NotFound("No such approval.", code="approval_not_found")
    caller = coordinator_access(user=user, circle=approval.circle, what="its approvals")
    return approval, caller


# --- Reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokensMonth:
    """Minutes that moved in one month: bought (net of refunds), earned by volunteers,
    spent on help (to volunteers and paid helpers) and given as gifts (to members or the pot);
    each net of the month's reversals of such movements."""

    month: date
    bought: int
    earned: int
    spent: int
    given: int


def tokens_by_month(*, circle: Circle, period: ReportPeriod) -> list[TokensMonth]:
    """One grouped query over the period's entries. A reversal counts as the kind it reverses
    (its entries are the original's, negated), so a purchase reversed nets to nothing.

    Which entries count, by the movement's own legs (tokens/services): a purchase's wallet leg;
    a settle's legs to anyone but the member who asked (the helper's wallet, or paid_help), of
    which those to a wallet were earned; a gift's legs to anyone but the giver."""
    kind = Coalesce(F("transaction__reverses__kind"), F("transaction__kind"))
    # The member the movement was for (a reversal names its original's member).
    not_theirs = Q(account__member_id__isnull=True) | ~Q(
        account__member_id=F("transaction__member_id")
    )
    wallet = Q(account__kind=AccountKind.WALLET)

    def total(condition: Q) -> Sum:
        return Sum(Case(When(condition, then=F("minutes")), default=Value(0)))

    rows = (
        Entry.objects.filter(
            transaction__circle_id=circle.pk,
            transaction__created_at__gte=period.start,
            transaction__created_at__lt=period.end,
            transaction__kind__in=(
                TransactionKind.PURCHASE,
                TransactionKind.SETTLE,
                TransactionKind.GIFT,
                TransactionKind.REVERSAL,
            ),
        )
        .annotate(effective=kind, month=TruncMonth("transaction__created_at"))
        .values("month")
        .annotate(
            bought=total(Q(effective=TransactionKind.PURCHASE) & wallet),
            earned=total(Q(effective=TransactionKind.SETTLE) & wallet & not_theirs),
            spent=total(
                Q(effective=TransactionKind.SETTLE)
                & Q(account__kind__in=(AccountKind.WALLET, AccountKind.PAID_HELP))
                & not_theirs
            ),
            given=total(
                Q(effective=TransactionKind.GIFT)
                & (Q(account__kind=AccountKind.POT) | (wallet & not_theirs))
            ),
        )
        .values_list("month", "bought", "earned", "spent", "given")
    )
    found = {local_date(row[0]): row[1:] for row in rows}
    return [
        TokensMonth(month, *(int(n or 0) for n in found.get(month, (0, 0, 0, 0))))
        for month in period.month_starts()
    ]
