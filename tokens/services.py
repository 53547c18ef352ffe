"""Writes to the token ledger: every way minutes move.

Each movement is one ledger transaction, written by `_post`, with an idempotency key unique in
its circle: the same key again returns the first transaction and moves nothing. The database
refuses an unbalanced transaction, a change to an entry, and a wallet below zero (see
tokens/ledger_sql.py); the checks here only turn those refusals into clear errors.

Concurrency: the trigger on each insert of entries locks their accounts in id order and moves
their balances (see tokens/ledger_sql.py; SQLite has one writer at a time), so two transactions
sharing accounts queue in one order and never deadlock; an overdraft is refused by
the wallet's CHECK constraint at the moment of the update, after any concurrent spend has
committed, so nothing can overspend.
"""

from __future__ import annotations

import json
import uuid
import weakref
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from circle.errors import Conflict, InvalidInput
from circle.retry import TryAgain, retry_on_conflict
from members.models import Member, User
from members.sql import audit_insert
from tokens.models import (
    Account,
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    LedgerTransaction,
    TransactionKind,
)

# A generous ceiling on one movement: a year of help every day. Anything larger is a typo.
MAX_MINUTES = 60 * 24 * 365


@dataclass(frozen=True)
class Posted:
    """The result of a movement: the transaction, and whether this call wrote it."""

    transaction_id: int
    created: bool


# --- Accounts ---------------------------------------------------------------------------------

# Account ids never change and accounts are never deleted, so once read they are cached for the
# life of the process. Only ids read outside any transaction are cached, since those rows are
# committed: an account created in a transaction that later rolls back must not be remembered.
_account_ids: dict[tuple[int, str, int | None], int] = {}


def _account_id(*, circle_id: int, kind: str, member_id: int | None = None) -> int:
    key = (circle_id, kind, member_id)
    cached = _account_ids.get(key)
    if cached is not None:
        return cached
    filters: dict[str, Any] = {"circle_id": circle_id, "kind": kind}
    if member_id is not None:
        filters["member_id"] = member_id
    found = Account.objects.filter(**filters).values_list("id", flat=True).first()
    if found is not None:
        if not connection.in_atomic_block:
            _account_ids[key] = found
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(**filters).pk
    except IntegrityError:
        # Another request opened it meanwhile; theirs is the one.
        return Account.objects.filter(**filters).values_list("id", flat=True).get()


def forget_cached_ids() -> None:
    """For tests, whose databases are emptied between tests (ids may then be reused)."""
    _account_ids.clear()


def wallet_id(member: Member) -> int:
    return _account_id(circle_id=member.circle_id, kind=AccountKind.WALLET, member_id=member.pk)


def system_account_id(circle_id: int, kind: str) -> int:
    return _account_id(circle_id=circle_id, kind=kind)


# --- Posting ----------------------------------------------------------------------------------


def _check_minutes(minutes: Any, *, field: str = "minutes", allow_negative: bool = False) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidInput("invalid", "Minutes are a whole number.", field=field)
    if minutes == 0 or (minutes < 0 and not allow_negative):
        raise InvalidInput(
            "invalid",
            "Minutes must be more than zero."
            if not allow_negative
            else "Minutes must not be zero.",
            field=field,
        )
    if abs(minutes) > MAX_MINUTES:
        raise InvalidInput("invalid", f"At most {MAX_MINUTES} minutes move at once.", field=field)
    return minutes


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise InvalidInput(
            "invalid",
            "An idempotency key of 1 to 200 characters is needed.",
            field="idempotency_key",
        )
    return key


# Parameters: $1 circle, $2 kind, $3 memo, $4 idempotency key, $5 member, $6 actor,
# $7 reverses, $8 account ids, $9 minutes, $10 audit action, $11 reason, $12 call reference,
# $13 audit data (JSON), $14 audit time. The audit row is members' SQL (members/sql.py).
_AUDIT_PG = audit_insert(
    circle="$1",
    actor="$6",
    member="$5",
    action="$10",
    reason="$11",
    call_reference="$12",
    data="jsonb_set($13, '{transaction_id}', to_jsonb(tx.id))",
    created_at="$14",
    source="FROM tx",
)
_POST_PG = (
    """
WITH tx AS (
    INSERT INTO tokens_transaction
        (circle_id, kind, memo, idempotency_key, member_id, actor_id, reverses_id, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, transaction_timestamp())
    ON CONFLICT (circle_id, idempotency_key) DO NOTHING
    RETURNING id
), entries AS (
    -- The entry trigger locks the accounts in id order and moves their balances.
    INSERT INTO tokens_entry (transaction_id, account_id, minutes)
    SELECT tx.id, leg.account_id, leg.minutes FROM tx, unnest($8, $9) AS leg(account_id, minutes)
), audit AS (
    """  # noqa: S608 (the audit row is members' SQL: names only; values are parameters)
    + _AUDIT_PG
    + """
)
SELECT id FROM tx
"""
)
_POST_PG_TYPES = (
    "bigint, text, text, text, bigint, bigint, bigint, bigint[], bigint[], text, text, text, "
    "jsonb, timestamptz"
)
# Connections on which the statement is prepared. A transfer is one short statement whose
# planning cost as much as its execution; prepared once per connection, it is planned once.
# (PREPARE outlives a rolled-back transaction; a new connection starts with nothing prepared.
# Behind a transaction-pooling proxy such as PgBouncer in transaction mode, prepare per
# transaction instead, or pool in session mode.)
_prepared_on: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _execute_post_pg(cursor: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
    raw = connection.connection
    if raw not in _prepared_on:
        cursor.execute(f"PREPARE circle_ledger_post ({_POST_PG_TYPES}) AS {_POST_PG}")
        _prepared_on[raw] = True
    cursor.execute(
        "EXECUTE circle_ledger_post (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            params["circle"],
            params["kind"],
            params["memo"],
            params["key"],
            params["member"],
            params["actor"],
            params["reverses"],
            params["accounts"],
            params["minutes"],
            params["action"],
            params["reason"],
            params["call_reference"],
            params["data"],
            params["now"],
        ],
    )
    row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def _post(
    *,
    circle_id: int,
    kind: str,
    key: str,
    legs: Sequence[tuple[int, int]],
    member_id: int | None,
    actor: User | None,
    memo: str = "",
    reverses_id: int | None = None,
    action: str,
    reason: str = "",
    call_reference: str = "",
    data: dict[str, Any] | None = None,
) -> Posted:
    """Write one balanced transaction with its entries and its audit row, or, if `key` was
    used before in this circle, return that transaction and write nothing.

    On PostgreSQL this is one statement (one round trip, and atomic on its own, so it needs no
    BEGIN/COMMIT of its own when called outside a transaction); on SQLite a short transaction
    holding the database's write lock.
    """
    legs = sorted(legs)
    if sum(minutes for _, minutes in legs) != 0 or len(legs) < 2:
        raise ValueError(f"unbalanced legs {legs!r}")  # a bug in this module, never user input
    params: dict[str, Any] = {
        "circle": circle_id,
        "kind": kind,
        "memo": memo[:300],
        "key": key,
        "member": member_id,
        "actor": actor.pk if actor else None,
        "reverses": reverses_id,
        "now": timezone.now(),
        "accounts": [account for account, _ in legs],
        "minutes": [minutes for _, minutes in legs],
        "action": action,
        "reason": reason,
        "call_reference": call_reference,
        "data": json.dumps({**(data or {}), "kind": kind}),
    }
    try:
        if connection.vendor == "postgresql":
            # Alone, the statement is its own transaction. Inside a caller's transaction it gets
            # a savepoint, so a refusal (an overdraft) leaves the caller's transaction usable.
            nested = transaction.atomic() if connection.in_atomic_block else nullcontext()
            with nested, connection.cursor() as cursor:
                row = _execute_post_pg(cursor, params)
            # (An account id that does not exist fails the entries' foreign key at commit.)
            if row is not None:
                return Posted(row[0], True)
        else:
            created = _post_sqlite(params)
            if created is not None:
                return Posted(created, True)
    except IntegrityError as exc:
        # The database refused; name the rule it applied.
        if "tokens_account_not_negative" in str(exc):
            raise Conflict(
                "insufficient_tokens", "There are not enough tokens available for this."
            ) from None
        if "tokens_transaction_reversed_once" in str(exc) or "reverses_id" in str(exc):
            raise Conflict(
                "already_reversed", "That transaction has already been reversed."
            ) from None
        raise
    return _replay(circle_id=circle_id, key=key, kind=kind, legs=legs)


_AUDIT_SQLITE = audit_insert(
    circle="%(circle)s",
    actor="%(actor)s",
    member="%(member)s",
    action="%(action)s",
    reason="%(reason)s",
    call_reference="%(call_reference)s",
    data="%(data)s",
    created_at="%(now)s",
)


def _post_sqlite(params: dict[str, Any]) -> int | None:
    # The entries go in first and the transaction row last: its insert trigger checks that they
    # balance (see ledger_sql.SQLITE_FORWARD). IMMEDIATE transactions (settings) hold the write
    # lock from the start, so MAX(id) + 1 is ours alone.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM tokens_transaction WHERE circle_id = %s AND idempotency_key = %s",
            [params["circle"], params["key"]],
        )
        if cursor.fetchone() is not None:
            return None
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM tokens_transaction")
        (tx_id,) = cursor.fetchone()
        cursor.executemany(
            "INSERT INTO tokens_entry (transaction_id, account_id, minutes) VALUES (%s, %s, %s)",
            [
                (tx_id, account, minutes)
                for account, minutes in zip(params["accounts"], params["minutes"], strict=True)
            ],
        )
        cursor.execute(
            "INSERT INTO tokens_transaction (id, circle_id, kind, memo, idempotency_key, "
            "member_id, actor_id, reverses_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, "
            "%s, %s)",
            [
                tx_id,
                params["circle"],
                params["kind"],
                params["memo"],
                params["key"],
                params["member"],
                params["actor"],
                params["reverses"],
                params["now"],
            ],
        )
        data = json.loads(params["data"])
        data["transaction_id"] = tx_id
        cursor.execute(
            _AUDIT_SQLITE,
            {
                "circle": params["circle"],
                "actor": params["actor"],
                "member": params["member"],
                "action": params["action"],
                "reason": params["reason"],
                "call_reference": params["call_reference"],
                "data": json.dumps(data),
                "now": params["now"],
            },
        )
        return int(tx_id)


def _replay(*, circle_id: int, key: str, kind: str, legs: Sequence[tuple[int, int]]) -> Posted:
    """The key was used before: the same movement is a replay; a different one is a mistake."""
    first = LedgerTransaction.objects.filter(circle_id=circle_id, idempotency_key=key).first()
    if first is None:
        # The first writer rolled back after our insert saw its key: try again from the top.
        raise TryAgain from None
    first_legs = sorted(first.entries.values_list("account_id", "minutes"))
    if first.kind != kind or first_legs != sorted(legs):
        raise Conflict(
            "idempotency_key_reused",
            "That idempotency key was already used for a different movement.",
            field="idempotency_key",
        )
    return Posted(first.pk, False)


# --- Movements --------------------------------------------------------------------------------


@retry_on_conflict
def purchase_credit(
    *, member: Member, minutes: int, payment_key: str, actor: User | None, memo: str = ""
) -> Posted:
    """Tokens bought: issuance → the member's wallet, once per payment (the key names it)."""
    minutes = _check_minutes(minutes)
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.PURCHASE,
        key=f"purchase:{_check_key(payment_key)}",
        legs=[
            (system_account_id(member.circle_id, AccountKind.ISSUANCE), -minutes),
            (wallet_id(member), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo=memo or "Tokens bought",
        action="tokens.purchased",
        data={"minutes": minutes, "payment": payment_key},
    )


@retry_on_conflict
def purchase_refund(
    *, member: Member, minutes: int, refund_key: str, actor: User | None, reason: str, memo: str
) -> Posted:
    """Tokens given back for money refunded: the member's wallet → issuance, once per refund
    (the key names it). Part of a purchase may be refunded, so this is not a reversal (which
    mirrors a whole transaction, once); it is a purchase the other way, kind `purchase`, so the
    ledger's kinds (and their triggers) stay as they are. The wallet's CHECK refuses a refund
    of tokens already spent."""
    minutes = _check_minutes(minutes)
    _require_reason(reason)
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.PURCHASE,
        key=f"refund:{_check_key(refund_key)}",
        legs=[
            (wallet_id(member), -minutes),
            (system_account_id(member.circle_id, AccountKind.ISSUANCE), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo=memo or "Tokens refunded",
        action="tokens.refunded",
        reason=reason.strip(),
        data={"minutes": minutes, "refund": refund_key},
    )


@retry_on_conflict
def transfer_create(
    *,
    source: Member,
    destination: Member | None,
    minutes: int,
    memo: str,
    actor: User | None,
    idempotency_key: str,
    reason: str = "",
    call_reference: str = "",
) -> Posted:
    """A gift from one member to another, or to the circle's pot (destination None)."""
    minutes = _check_minutes(minutes)
    key = _check_key(idempotency_key)
    if destination is not None:
        if destination.circle_id != source.circle_id:
            raise InvalidInput(
                "member_not_found", "No such member in this circle.", field="to_member_id"
            )
        if destination.pk == source.pk:
            raise InvalidInput(
                "same_member", "A gift needs someone else to receive it.", field="to_member_id"
            )
        to_account = wallet_id(destination)
    else:
        to_account = system_account_id(source.circle_id, AccountKind.POT)
    return _post(
        circle_id=source.circle_id,
        kind=TransactionKind.GIFT,
        key=f"gift:{key}",
        legs=[(wallet_id(source), -minutes), (to_account, minutes)],
        member_id=source.pk,
        actor=actor,
        memo=memo,
        action="tokens.gift",
        reason=reason,
        call_reference=call_reference,
        data={
            "minutes": minutes,
            "to_member_id": destination.pk if destination else None,
            "to": "member" if destination else "pot",
        },
    )


@retry_on_conflict
def grant_create(
    *, member: Member, minutes: int, reason: str, actor: User | None, idempotency_key: str
) -> Posted:
    """From the pot to a member in hardship. The pot cannot go below zero."""
    minutes = _check_minutes(minutes)
    _require_reason(reason)
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.GRANT,
        key=f"grant:{_check_key(idempotency_key)}",
        # The pot's CHECK (never negative) refuses a grant it cannot cover.
        legs=[
            (system_account_id(member.circle_id, AccountKind.POT), -minutes),
            (wallet_id(member), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo="Granted from the pot",
        action="tokens.granted",
        reason=reason.strip(),
        data={"minutes": minutes},
    )


@retry_on_conflict
def adjustment_create(
    *, member: Member, minutes: int, reason: str, actor: User | None, idempotency_key: str
) -> Posted:
    """A coordinator's correction: minutes into (positive) or out of (negative) a wallet,
    against the circle's adjustments account."""
    minutes = _check_minutes(minutes, allow_negative=True)
    _require_reason(reason)
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.ADJUSTMENT,
        key=f"adjustment:{_check_key(idempotency_key)}",
        legs=[
            (system_account_id(member.circle_id, AccountKind.ADJUSTMENTS), -minutes),
            (wallet_id(member), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo="Adjustment by a coordinator",
        action="tokens.adjusted",
        reason=reason.strip(),
        data={"minutes": minutes},
    )


# Task-bound movements are undone by their own services (release, settle), not by reversal,
# so that a hold's row and its minutes in escrow never disagree.
REVERSIBLE_KINDS = frozenset(
    {
        TransactionKind.PURCHASE,
        TransactionKind.GIFT,
        TransactionKind.GRANT,
        TransactionKind.ADJUSTMENT,
    }
)


@retry_on_conflict
def reversal_create(
    *, original: LedgerTransaction, reason: str, actor: User | None, idempotency_key: str = ""
) -> Posted:
    """Undo a transaction with its mirror image. At most once (the database holds that)."""
    _require_reason(reason)
    if original.kind not in REVERSIBLE_KINDS:
        raise Conflict(
            "not_reversible",
            f"A {original.kind} is undone through its task (cancel or settle), not reversed.",
        )
    existing = LedgerTransaction.objects.filter(reverses=original).first()
    if existing is not None:
        if idempotency_key and existing.idempotency_key == f"reversal:{idempotency_key}":
            return Posted(existing.pk, False)
        raise Conflict("already_reversed", "That transaction has already been reversed.")
    legs = [
        (account, -minutes)
        for account, minutes in original.entries.values_list("account_id", "minutes")
    ]
    posted = _post(
        circle_id=original.circle_id,
        kind=TransactionKind.REVERSAL,
        key=f"reversal:{_check_key(idempotency_key or f'of-{original.pk}')}",
        legs=legs,
        member_id=original.member_id,
        actor=actor,
        memo=f"Reversal of {original.kind} #{original.pk}",
        reverses_id=original.pk,
        action="tokens.reversed",
        reason=reason.strip(),
        data={"reverses": original.pk},
    )
    # `_replay` compares kind and legs, and two originals can have equal legs (two purchases of
    # an hour): a key first used to reverse one must not pass for reversing the other, which
    # would stay unreversed while the caller is told it was.
    if (
        not posted.created
        and not LedgerTransaction.objects.filter(
            pk=posted.transaction_id, reverses_id=original.pk
        ).exists()
    ):
        raise Conflict(
            "idempotency_key_reused",
            "That idempotency key was already used for a different movement.",
            field="idempotency_key",
        )
    return posted


def _require_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise InvalidInput("required", "reason: Say why.", field="reason")


# --- Holds ------------------------------------------------------------------------------------


@retry_on_conflict
def hold_create(
    *, member: Member, minutes: int, reference: str, actor: User | None, memo: str = ""
) -> Hold:
    """Put minutes from the member's wallet into escrow for a booked task. One hold per
    reference: booking the same task twice returns the first hold. `memo` is what the
    member's statement says (by default the reference)."""
    minutes = _check_minutes(minutes)
    reference = _check_key(reference)
    existing = Hold.objects.filter(circle_id=member.circle_id, reference=reference).first()
    if existing is not None:
        # The reference is the hold's idempotency key: only the same hold again is a replay,
        # not another member's or another size of hold under the same reference.
        if existing.member_id != member.pk or existing.minutes != minutes:
            raise Conflict(
                "idempotency_key_reused",
                "That reference already holds tokens for a different booking.",
                field="reference",
            )
        return existing
    with transaction.atomic(durable=not connection.in_atomic_block):
        posted = _post(
            circle_id=member.circle_id,
            kind=TransactionKind.HOLD,
            key=f"hold:{reference}",
            legs=[
                (wallet_id(member), -minutes),
                (system_account_id(member.circle_id, AccountKind.ESCROW), minutes),
            ],
            member_id=member.pk,
            actor=actor,
            memo=memo or f"Held for {reference}",
            action="tokens.held",
            data={"minutes": minutes, "reference": reference},
        )
        if not posted.created:
            # A concurrent booking of the same reference won; its hold is the hold.
            return Hold.objects.get(circle_id=member.circle_id, reference=reference)
        return Hold.objects.create(
            circle_id=member.circle_id,
            member=member,
            reference=reference,
            minutes=minutes,
            hold_transaction_id=posted.transaction_id,
        )


def _close_hold(
    *,
    hold: Hold,
    status: str,
    kind: str,
    legs: list[tuple[int, int]],
    actor: User | None,
    action: str,
    data: dict[str, Any],
    memo: str = "",
) -> Posted:
    legs = sorted(leg for leg in legs if leg[1] != 0)  # nothing returned: no entry for it
    with transaction.atomic(durable=not connection.in_atomic_block):
        # Lock the hold so that a settle and a release racing for it run one after the other;
        # the second sees it closed.
        locked = Hold.objects.select_for_update().get(pk=hold.pk)
        if locked.status != HoldStatus.OPEN:
            # Only the same close again is a replay: a settle with other minutes or another
            # helper must not be answered as if it had happened.
            closed_legs = Entry.objects.filter(transaction_id=locked.close_transaction_id)
            same = sorted(closed_legs.values_list("account_id", "minutes")) == legs
            if locked.status == status and same and locked.close_transaction_id is not None:
                return Posted(locked.close_transaction_id, False)
            raise Conflict("hold_closed", f"The hold was already {locked.status}.")
        posted = _post(
            circle_id=locked.circle_id,
            kind=kind,
            key=f"{kind}:{locked.pk}",
            legs=legs,
            member_id=locked.member_id,
            actor=actor,
            memo=memo or f"{kind.capitalize()} {locked.reference}",
            action=action,
            data={**data, "reference": locked.reference},
        )
        Hold.objects.filter(pk=locked.pk).update(
            status=status, close_transaction_id=posted.transaction_id
        )
        hold.status, hold.close_transaction_id = status, posted.transaction_id
        return posted


@retry_on_conflict
def hold_release(*, hold: Hold, actor: User | None, memo: str = "") -> Posted:
    """Everything held goes back to the member (a cancelled or expired task)."""
    escrow = system_account_id(hold.circle_id, AccountKind.ESCROW)
    return _close_hold(
        hold=hold,
        status=HoldStatus.RELEASED,
        kind=TransactionKind.RELEASE,
        legs=[(escrow, -hold.minutes), (wallet_id(hold.member), hold.minutes)],
        actor=actor,
        action="tokens.released",
        data={"minutes": hold.minutes},
        memo=memo,
    )


@retry_on_conflict
def hold_settle(
    *,
    hold: Hold,
    minutes_done: int,
    helper: Member | None,
    actor: User | None,
    overrun: int = 0,
    memo: str = "",
) -> Posted:
    """Pay for work done from a hold: the minutes done to the volunteer's wallet (or, for a
    paid helper, `helper=None`, to the circle's paid_help account); the rest back to the member.

    `overrun` is what the work took beyond the whole hold, paid from the member's wallet in the
    same transaction (so `minutes_done` must then be all that is held). The wallet's CHECK
    refuses more than it holds (409 insufficient_tokens): the caller decides how much of an
    overrun the member can pay, and nothing ever drives a wallet negative.
    """
    minutes_done = _check_minutes(minutes_done, field="minutes")
    if minutes_done > hold.minutes:
        raise Conflict(
            "more_than_held",
            f"{minutes_done} minutes were done but only {hold.minutes} are held.",
            field="minutes",
        )
    if overrun < 0 or (overrun and minutes_done != hold.minutes):
        raise ValueError("an overrun is paid only once the whole hold is spent")  # a bug
    if helper is not None and helper.circle_id != hold.circle_id:
        raise InvalidInput("member_not_found", "No such helper in this circle.", field="helper")
    escrow = system_account_id(hold.circle_id, AccountKind.ESCROW)
    to = wallet_id(helper) if helper else system_account_id(hold.circle_id, AccountKind.PAID_HELP)
    rest = hold.minutes - minutes_done
    return _close_hold(
        hold=hold,
        status=HoldStatus.SETTLED,
        kind=TransactionKind.SETTLE,
        legs=[
            (escrow, -hold.minutes),
            (to, minutes_done + overrun),
            (wallet_id(hold.member), rest - overrun),
        ],
        actor=actor,
        action="tokens.settled",
        data={
            "minutes_done": minutes_done + overrun,
            "returned": rest,
            "overrun": overrun,
            "helper_member_id": helper.pk if helper else None,
        },
        memo=memo,
    )


def new_key() -> str:
    """A fresh idempotency key, for callers with nothing of their own to key on."""
    return uuid.uuid4().hex
