"""Queueing Celery tasks after a commit, without ever failing the request that committed.

The work a task does is already written down before it is queued (a Notice row, a task whose
`next_offer_at` is due, a period whose reminder email is unsent): those rows are the outbox, and
a periodic sweep does whatever was not done. So when the broker cannot be reached, the enqueue
is logged and given up; the request that committed still answers with what it did, not 500,
and the sweep sends the message a minute or so later. The broker's connect timeout and the
publish retry policy (CELERY_* in circle/settings.py) keep the attempt short, so a request does
not hang on a broker that is down.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Task[Any, Any], *args: Any) -> bool:
    """Queue `task(*args)`; False, logged, when the broker could not take it.

    In eager mode (no broker: a laptop, the tests) the task runs here and its errors propagate
    as before: there is no broker to be down, and a broken task should fail loudly."""
    if task.app.conf.task_always_eager:
        task.apply_async(args=args)
        return True
    try:
        task.apply_async(args=args)
    except Exception:
        # kombu's OperationalError after the publish retries, or a socket error: the row it was
        # about stays unsent, and the sweep sends it.
        logger.warning("could not queue %s%r; the periodic sweep will", task.name, args)
        return False
    return True


def enqueue_after_commit(task: Task[Any, Any], *args: Any) -> None:
    """Queue `task(*args)` once the current transaction commits (at once outside one), so the
    worker sees what was written and nothing is queued for a rollback."""
    transaction.on_commit(lambda: enqueue(task, *args))
