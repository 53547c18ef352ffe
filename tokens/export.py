"""The token ledger's part of a member's data export (members/export.py): their wallet's
balance and every entry in it, newest first, each with the balance after it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from members.models import Member
from tokens.memos import ENTRY_MEMO_SHOWN
from tokens.models import Account, Entry
from tokens.selectors import statement_lines


def member_export_part(member: Member) -> dict[str, Any]:
    """Two queries (a third only when staff moved tokens out of the wallet, for their
    reasons: tokens.selectors.statement_lines)."""
    account = Account.objects.filter(member=member).first()
    if account is None:
        return {"balance_minutes": 0, "statement": []}
    entries = list(
        Entry.objects.filter(account=account)
        .select_related("transaction")
        .annotate(memo_shown=ENTRY_MEMO_SHOWN)
        .order_by("-id")
    )
    lines = statement_lines(member=member, entries=entries, balance=account.balance)
    return {
        "balance_minutes": account.balance,
        "statement": [asdict(line) for line in lines],
    }
