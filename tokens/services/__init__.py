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

from tokens.services.accounts import forget_cached_ids, system_account_id, wallet_id
from tokens.services.approvals import (
    approval_approve,
    approval_needed,
    approval_refuse,
    correction_ask,
)
from tokens.services.audits import audit_run_create, audit_run_record
from tokens.services.holds import hold_create, hold_release, hold_settle
from tokens.services.movements import (
    REVERSIBLE_KINDS,
    adjustment_create,
    grant_create,
    purchase_credit,
    purchase_refund,
    reversal_create,
    transfer_create,
)
from tokens.services.posting import MAX_MINUTES, Posted, new_key

__all__ = [
    "MAX_MINUTES",
    "REVERSIBLE_KINDS",
    "Posted",
    "adjustment_create",
    "approval_approve",
    "approval_needed",
    "approval_refuse",
    "audit_run_create",
    "audit_run_record",
    "correction_ask",
    "forget_cached_ids",
    "grant_create",
    "hold_create",
    "hold_release",
    "hold_settle",
    "new_key",
    "purchase_credit",
    "purchase_refund",
    "reversal_create",
    "system_account_id",
    "transfer_create",
    "wallet_id",
]
