"""Account ids: a member's wallet and a circle's system accounts, opened on first use and cached
once committed."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction

from members.models import Member
from tokens.models import (
    Account,
    AccountKind,
)

# Account ids never change and accounts are never deleted, so once read they are cached for the
# life of the process. Only committed rows are cached: an id read outside any transaction at
# once, one read inside a transaction when it commits (the row may be that transaction's own,
# and an account created in a transaction that rolls back must not be remembered). Every
# movement runs inside its service's transaction, so without the second rule nothing would
# ever be cached. A circle's system accounts are a handful; wallets, one a member.
_account_ids: dict[tuple[int, str, int | None], int] = {}


_SYSTEM_ACCOUNT_SQL = (
    f"SELECT id FROM {Account._meta.db_table} "  # noqa: S608 (a name from _meta; values are parameters)
    "WHERE circle_id = %s AND kind = %s ORDER BY id LIMIT 1"
)
_MEMBER_ACCOUNT_SQL = (
    f"SELECT id FROM {Account._meta.db_table} "  # noqa: S608 (a name from _meta; values are parameters)
    "WHERE circle_id = %s AND kind = %s AND member_id = %s ORDER BY id LIMIT 1"
)


def _account_id(*, circle_id: int, kind: str, member_id: int | None = None) -> int:
    key = (circle_id, kind, member_id)
    cached = _account_ids.get(key)
    if cached is not None:
        return cached
    filters: dict[str, Any] = {"circle_id": circle_id, "kind": kind}
    if member_id is not None:
        filters["member_id"] = member_id
    # Plain SQL, the same query the ORM's `filter(**filters).first()` makes: a wallet is looked
    # up at every purchase of a member not seen yet by this process, and compiling the query
    # cost more than running it.
    with connection.cursor() as cursor:
        if member_id is None:
            cursor.execute(_SYSTEM_ACCOUNT_SQL, [circle_id, kind])
        else:
            cursor.execute(_MEMBER_ACCOUNT_SQL, [circle_id, kind, member_id])
        row = cursor.fetchone()
    found: int | None = row[0] if row is not None else None
    if found is not None:
        if not connection.in_atomic_block:
            _account_ids[key] = found
        else:
            transaction.on_commit(lambda: _account_ids.setdefault(key, found))
        return found
    try:
        with transaction.atomic():
            made = Account.objects.create(**filters).pk
        transaction.on_commit(lambda: _account_ids.setdefault(key, made))
        return made
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
