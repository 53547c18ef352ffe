"""How a transaction's memo is read: through its redaction, and with the task it names.

Ledger rows never change (the append-only triggers), so two things stand between a memo as
written and the words a reader sees:

- `MemoRedaction`: when a member's data is erased, a memo that quoted their words (a task's
  title, written before issue 14, or a gift's note) gets a redaction row, and every reader
  reads `COALESCE(redaction.memo, memo)` (`MEMO_SHOWN`, `ENTRY_MEMO_SHOWN`) in its own
  statement: no extra query.
- Task references: since issue 14 a memo names a task by id only ("Paid for request 123",
  "Back from request 123: cancelled"; a hold, written before its task exists, says "Held for
  a request" and is tied to its task through the hold). The words live in the task, which
  erasure redacts, and the reader shows the task's title read through the task: `matching`
  (a floor above) registers the reader from its AppConfig.ready(), and a page of memos costs
  one query more only when it holds such a reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import F
from django.db.models.functions import Coalesce

# What memos written for tasks say in place of the task's words.
A_REQUEST = "a request"
HOLD_MEMO = f"Held for {A_REQUEST}"
_TASK_REF = re.compile(r"\brequest (\d+)\b")


def task_ref(task_id: int) -> str:
    """How a memo names a task: by its id, never by its words."""
    return f"request {task_id}"


# The memo as shown, read in the same statement as the transaction (or its entry).
MEMO_SHOWN = Coalesce(F("redaction__memo"), F("memo"))
ENTRY_MEMO_SHOWN = Coalesce(F("transaction__redaction__memo"), F("transaction__memo"))

# matching's reader: (task ids named in memos, ids of hold transactions saying "a request")
# -> (each task's label by task id, the task id of each of those hold transactions).
TaskLabels = Callable[[set[int], set[int]], tuple[dict[int, str], dict[int, int]]]
_TASK_LABELS: list[TaskLabels] = []


def task_labels_register(reader: TaskLabels) -> None:
    """Called once from matching's AppConfig.ready() (a reloaded app keeps one reader)."""
    _TASK_LABELS[:] = [reader]


def memos_describe(rows: Iterable[tuple[int, str]]) -> dict[int, str]:
    """The memos of these (transaction id, memo as shown) pairs as a person reads them: each
    task a memo names is shown by its title and day, read through the task. At most one
    query, and none when no memo names a task."""
    rows = list(rows)
    task_ids = {int(found) for _, memo in rows for found in _TASK_REF.findall(memo)}
    holds = {tx_id for tx_id, memo in rows if memo == HOLD_MEMO}
    if not (task_ids or holds) or not _TASK_LABELS:
        return dict(rows)
    labels, task_of = _TASK_LABELS[0](task_ids, holds)

    def named(found: re.Match[str]) -> str:
        return labels.get(int(found[1]), found[0])

    shown: dict[int, str] = {}
    for tx_id, memo in rows:
        memo = _TASK_REF.sub(named, memo)
        task_id = task_of.get(tx_id)
        if task_id is not None and task_id in labels:
            memo = memo.replace(A_REQUEST, labels[task_id], 1)
        shown[tx_id] = memo
    return shown


def rows_describe(rows: list[dict[str, Any]], *, memo_key: str = "memo") -> None:
    """Put the described memo into each row (plain rows of transactions with `id` and
    `memo_shown`, read with MEMO_SHOWN), in place."""
    shown = memos_describe((row["id"], row["memo_shown"] or "") for row in rows)
    for row in rows:
        row[memo_key] = shown[row["id"]]
        del row["memo_shown"]
