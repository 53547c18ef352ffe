"""SQL that this app lets other apps embed in their own statements, so that no other app names
members' tables or columns: each is read from the models' `_meta`, and a change to the audit
table is made here, once.

The ledger writes a movement, its entries and its audit row in one statement (one round trip on
PostgreSQL, prepared once per connection); it builds that statement around `audit_insert`.
"""

from __future__ import annotations

from django.db import models

from members.models import AuditEvent, Member

# Only table and column names from the models' `_meta`, and the SQL expressions the calling
# app passes, go into these strings; values are always the caller's query parameters.


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), name
    assert field.column, name
    return field.column


def actor_member_select(*, circle: str, actor: str) -> str:
    """A scalar subquery: the id of the member record of user `actor` in circle `circle` (each
    an SQL expression), or NULL when they have none there."""
    return (
        f"(SELECT {_column(Member, 'id')} FROM {Member._meta.db_table} "  # noqa: S608
        f"WHERE {_column(Member, 'circle')} = {circle} AND {_column(Member, 'user')} = {actor})"
    )


def audit_insert(
    *,
    circle: str,
    actor: str,
    member: str,
    action: str,
    reason: str,
    call_reference: str,
    data: str,
    created_at: str,
    source: str = "",
) -> str:
    """An `INSERT ... SELECT` of one audit row, as `members.services.audit_record` writes it.

    Each argument is an SQL expression (a placeholder, or a column of `source`, the FROM clause
    the row is selected from, e.g. "FROM tx" in a CTE: no row there, no audit row). The actor's
    member record in the circle is looked up in the same statement. `data` must be JSON (jsonb
    on PostgreSQL, text on SQLite)."""
    columns = ", ".join(
        _column(AuditEvent, name)
        for name in (
            "circle",
            "actor",
            "actor_member",
            "member",
            "action",
            "reason",
            "call_reference",
            "data",
            "created_at",
        )
    )
    values = ", ".join(
        (
            circle,
            actor,
            actor_member_select(circle=circle, actor=actor),
            member,
            action,
            reason,
            call_reference,
            data,
            created_at,
        )
    )
    table = AuditEvent._meta.db_table
    return f"INSERT INTO {table} ({columns}) SELECT {values} {source}".rstrip()
