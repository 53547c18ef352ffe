"""How a transaction's memo is read: through its redaction, and with the task it names.

Ledger rows never change (the append-only triggers), so two things stand between a memo as
written and the words a reader sees:

- `MemoRedaction`: when a member's data is erased, a memo that quoted their words (a task's
  title, written before issue 14, or a gift's note) gets a redaction row, and every reader
  reads `COALESCE(redaction.memo, memo)` (`MEMO_SHOWN`, `ENTRY_MEMO_SHOWN`) in its own
  statement: no extra query.
- References: since issue 14 a memo names a task by id only ("Paid for request 123",
  "Back from request 123: cancelled"; a hold, written before its task exists, says "Held for
  a request" and is tied to its task through the hold), and a gift by card names its giver
  through the gift ("Gift 45: 2 tokens (card)"). The words live in the task or the gift,
  which erasure redacts, and the reader shows them read through it: `matching` and
  `payments` (floors above) register describers from their AppConfig.ready(), and a page of
  memos costs one query more per kind of reference it holds, none when it holds none.
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

# Apps above this one describe the memos they wrote (matching: the tasks a memo names;
# payments: a gift's giver): each is given the page's (transaction id, memo) pairs and
# answers the new wording of those it recognises, with one query at most, and none when no
# memo is theirs.
Describer = Callable[[list[tuple[int, str]]], dict[int, str]]
_DESCRIBERS: dict[str, Describer] = {}


def memo_describer_register(*, name: str, describer: Describer) -> None:
    """Called from an app's AppConfig.ready() (a reloaded app keeps one describer)."""
    _DESCRIBERS[name] = describer


def memos_describe(rows: Iterable[tuple[int, str]]) -> dict[int, str]:
    """The memos of these (transaction id, memo as shown) pairs as a person reads them: each
    task a memo names shown by its title and day, read through the task; a gift by its
    giver's name, read through the gift. One query per kind of reference the page holds."""
    shown = dict(rows)
    for describer in _DESCRIBERS.values():
        if shown:
            shown.update(describer(list(shown.items())))
    return shown


def task_memos_describe(
    rows: list[tuple[int, str]],
    labels_of: Callable[[set[int], set[int]], tuple[dict[int, str], dict[int, int]]],
) -> dict[int, str]:
    """The tasks' part of memos_describe, given matching's reader `labels_of(task ids named,
    ids of hold transactions saying "a request") -> (label by task id, task id by hold
    transaction)`: a memo's "request 123" (or a hold's "a request") becomes the task's label."""
    task_ids = {int(found) for _, memo in rows for found in _TASK_REF.findall(memo)}
    holds = {tx_id for tx_id, memo in rows if memo == HOLD_MEMO}
    if not (task_ids or holds):
        return {}
    labels, task_of = labels_of(task_ids, holds)

    def named(found: re.Match[str]) -> str:
        return labels.get(int(found[1]), found[0])

    shown: dict[int, str] = {}
    for tx_id, memo in rows:
        new = _TASK_REF.sub(named, memo)
        task_id = task_of.get(tx_id)
        if task_id is not None and task_id in labels:
            new = new.replace(A_REQUEST, labels[task_id], 1)
        if new != memo:
            shown[tx_id] = new
    return shown


def rows_describe(rows: list[dict[str, Any]], *, memo_key: str = "memo") -> None:
    """Put the described memo into each row (plain rows of transactions with `id` and
    `memo_shown`, read with MEMO_SHOWN), in place."""
    shown = memos_describe((row["id"], row["memo_shown"] or "") for row in rows)
    for row in rows:
        row[memo_key] = shown[row["id"]]
        del row["memo_shown"]
