"""Helpers for the few statements Circle writes as plain SQL: prepared once per connection on
PostgreSQL (`prepared_execute`), their times read as the ORM reads them (`aware`), and the ids
they look up checked as the ORM would answer them (`names_a_row`).

Some of Circle's busiest statements are short: a transfer's one statement, a page of the ledger.
PostgreSQL planned each of them on every call, and planning cost about as much as running. A
statement prepared once per connection (PREPARE, then EXECUTE with the values) is parsed once,
and its plan is reused once PostgreSQL finds the generic plan as good as the custom ones.

Prepared statements belong to the connection: PREPARE outlives a rolled-back transaction, and a
new connection (CONN_MAX_AGE, a health check that failed) starts with nothing prepared, which is
why they are remembered per raw connection. Behind a transaction-pooling proxy such as PgBouncer
in transaction mode, pool in session mode instead. Elsewhere (SQLite) the statement simply runs.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The names prepared on each raw connection.
_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%[s%]")


def numbered(sql: str) -> str:
    """`sql` written with the driver's `%s` placeholders, in PostgreSQL's own: $1, $2..."""
    count = 0

    def number(found: re.Match[str]) -> str:
        nonlocal count
        if found[0] == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def prepared_execute(
    cursor: Any, *, name: str, sql: str, params: Sequence[Any], types: str = ""
) -> None:
    """Run `sql` (with `%s` placeholders, or PostgreSQL's $1, $2...) with `params` on
    `cursor`: on PostgreSQL as the statement `name`, prepared on this connection the first
    time. `types` are the parameters' types where PostgreSQL cannot tell them from the
    statement (`"bigint, text"`); each different `sql` needs a name of its own."""
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    raw = connection.connection
    names = _prepared_on.get(raw)
    if names is None:
        names = _prepared_on[raw] = set()
    if name not in names:
        declared = f" ({types})" if types else ""
        # On the driver's own cursor: preparing is how this connection runs the statement,
        # not a statement of the request's (one that tests counting statements would count
        # or not by which test first ran it on the connection).
        with connection.wrap_database_errors:
            cursor.cursor.execute(f"PREPARE {name}{declared} AS {numbered(sql)}")
        names.add(name)
    values = ", ".join(["%s"] * len(params))
    cursor.execute(f"EXECUTE {name} ({values})" if params else f"EXECUTE {name}", params)


def names_a_row(key: int) -> bool:
    """Whether `key` could be a row's id. One past the databases' 64-bit keys names nobody: the
    ORM answers a lookup of it empty, where a plain statement would fail in the driver."""
    return 0 < key < 2**63


def aware(moment: datetime | str) -> datetime:
    """A time read with plain SQL, as the ORM gives it: aware. SQLite keeps UTC without a zone
    (and gives text where no converter applies)."""
    if isinstance(moment, str):
        parsed = parse_datetime(moment)
        if parsed is None:
            raise ValueError(f"not a time: {moment!r}")
        moment = parsed
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
