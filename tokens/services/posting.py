"""Writing one balanced ledger transaction with its entries and its audit row (`_post`): one
prepared statement on PostgreSQL, a short write-locked transaction on SQLite; the key checks
every movement shares."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from circle.errors import Conflict, InvalidInput
from circle.retry import TryAgain
from circle.sql import prepared_execute
from members.models import User
from members.sql import audit_insert
from tokens.models import (
    LedgerTransaction,
)

# A generous ceiling on one movement: a year of help every day. Anything larger is a typo.
MAX_MINUTES = 60 * 24 * 365


@dataclass(frozen=True)
class Posted:
    """The result of a movement: the transaction, and whether this call wrote it."""

    transaction_id: int
    created: bool


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


def _actor_key(key: str, actor: User | None) -> str:
    """A client's idempotency key, scoped to the person acting (`u<user id>:<key>`).

    Keys are unique per circle in the database, and clients pick them: without the scope, Bob's
    "k-1" met Alice's "k-1" as a 409, or, for the same legs (two coordinators making the same
    adjustment, an operator repeating a member's gift for her), was answered with the other
    person's transaction while nothing moved. Scoped, each person's keys are their own, and the
    same person's key again is still a replay that moves nothing. Keys the system derives from
    its own rows (a payment, a refund, a task) name those rows and are not scoped.
    """
    return f"u{actor.pk}:{key}" if actor is not None else key


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


def _execute_post_pg(cursor: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
    # A transfer is one short statement whose planning cost as much as its execution:
    # prepared once per connection (circle.sql), it is planned once.
    prepared_execute(
        cursor,
        name="circle_ledger_post",
        sql=_POST_PG,
        types=_POST_PG_TYPES,
        params=[
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
    refusable: bool = True,
) -> Posted:
    """Write one balanced transaction with its entries and its audit row, or, if `key` was
    used before in this circle, return that transaction and write nothing.

    On PostgreSQL this is one statement (one round trip, and atomic on its own, so it needs no
    BEGIN/COMMIT of its own when called outside a transaction); on SQLite a short transaction
    holding the database's write lock.

    `refusable=False`: no rule of the ledger refuses this movement (tokens into a wallet from
    issuance, which may go below zero), so inside a caller's transaction it needs no savepoint
    to survive a refusal: two round trips fewer. Should it fail all the same, the caller's
    transaction is marked for rollback (`atomic(savepoint=False)`), so nothing after it can
    commit half a movement.
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
            nested = (
                transaction.atomic(savepoint=refusable)
                if connection.in_atomic_block
                else nullcontext()
            )
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
        # The time as the ORM writes it ("2026-12-01 10:00:00.123456", naive UTC), not as
        # sqlite3's own adapter would ("...+00:00"): compared as text, the two differ at the
        # same instant, and a keyset page at (created_at, id) lost its equal-time neighbours.
        now = connection.ops.adapt_datetimefield_value(params["now"])
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
                now,
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
                "now": now,
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


def _require_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise InvalidInput("required", "reason: Say why.", field="reason")


def new_key() -> str:
    """A fresh idempotency key, for callers with nothing of their own to key on."""
    return uuid.uuid4().hex
