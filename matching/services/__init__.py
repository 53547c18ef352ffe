"""Writes for tasks: booking, accepting, completing, confirming, cancelling and expiring them,
recurring series, and members' words about helpers.

Every transition runs in one durable transaction that locks the task's row, moves tokens only
through the ledger services (`hold_create`, `hold_settle`, `hold_release`), and writes its
audit row. Every one is idempotent: the same call again finds the task already where it
would have put it and answers the same result, moving nothing (`Outcome.changed` is False).
Notifications are queued with `transaction.on_commit`, so nobody is told of a change that
rolled back. A transition PostgreSQL aborts for a deadlock or a serialisation failure is run
again whole (`retry_on_conflict`), so the caller sees its outcome, not the database's scheduling.
"""

from __future__ import annotations

from matching.services.booking import billed_minutes, task_book
from matching.services.common import SERVED, Outcome
from matching.services.lifecycle import (
    task_accept,
    task_cancel,
    task_complete,
    task_confirm,
    task_expire,
    task_hand_back,
    tasks_expire,
)
from matching.services.preferences import preference_remove, preference_set
from matching.services.recurring import (
    SeriesRun,
    series_book_ahead,
    series_book_all,
    series_create,
    series_end,
)
from matching.services.safeguarding import Suspension, concern_helper_suspend
from matching.services.watch import tasks_unconfirmed_raise, tasks_without_helper_raise

__all__ = [
    "SERVED",
    "Outcome",
    "SeriesRun",
    "Suspension",
    "billed_minutes",
    "concern_helper_suspend",
    "preference_remove",
    "preference_set",
    "series_book_ahead",
    "series_book_all",
    "series_create",
    "series_end",
    "task_accept",
    "task_book",
    "task_cancel",
    "task_complete",
    "task_confirm",
    "task_expire",
    "task_hand_back",
    "tasks_expire",
    "tasks_unconfirmed_raise",
    "tasks_without_helper_raise",
]
