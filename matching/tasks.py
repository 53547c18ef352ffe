"""Celery tasks for matching: thin, taking ids; the work is in notify.py and services.py.

Every task is acknowledged late and given back to the queue if its worker process dies
(CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), so each may run twice: a
redelivery, a duplicated beat, two workers. Each says below why twice acts once.
"""

from __future__ import annotations

from celery import shared_task

from matching import notify, services
from matching.services.watch import task_items_tidy as watch_tidy
from matching.services.watch import task_items_tidy_all


@shared_task
def send_notice(notice_id: int) -> bool:
    """Send one notice. Idempotent: it claims the row (`sent_at` set by a conditional update)
    before sending, and a second run finds it claimed and sends nothing."""
    return notify.notice_send(notice_id=notice_id)


@shared_task
def offer_task(task_id: int, excluding: int | None = None) -> int:
    """Send the task's due wave of offers. Idempotent: the wave is claimed under the task's row
    lock and moved on in the same transaction, so a second run finds no wave due; a run killed
    halfway rolls back whole and the redelivered one sends the wave. The wave's notices are
    sent here once it commits (one claim for them all); any a run killed after the commit did
    not send are the outbox sweep's (`notices_sweep`), as when the broker is down."""
    return len(notify.offer_wave(task_id=task_id, excluding=excluding))


@shared_task
def offer_waves_due() -> int:
    """Periodic: every due wave (also the first wave of a task booked while the broker was
    down). Idempotent for the reason `offer_task` is."""
    return notify.offer_waves_due()


@shared_task
def notices_sweep() -> int:
    """Periodic: the outbox, sending notices whose own job never ran. Idempotent: each send
    claims its notice first, so a notice is sent once whoever runs first."""
    return notify.notices_sweep()


@shared_task
def expire_tasks() -> int:
    """Periodic: open tasks whose window ended. Idempotent: each is expired under its row lock
    only while still open, so a second run finds nothing to do."""
    return services.tasks_expire()


@shared_task
def book_series_ahead() -> int:
    """Periodic: the next occurrences of recurring tasks. Idempotent: an occurrence is unique
    per series and date, so a second run books none twice."""
    return services.series_book_all()


@shared_task
def attention_sweep() -> dict[str, int]:
    """Periodic: requests about to start with no helper, and work done but not confirmed for
    days, onto the coordinators' queue. Idempotent: each task is raised once per kind (a
    unique constraint on the item's cause), whichever run finds it first."""
    return {
        "closed": task_items_tidy_all(),
        "no_helper": services.tasks_without_helper_raise(),
        "unconfirmed": services.tasks_unconfirmed_raise(),
    }


@shared_task
def task_items_tidy(task_id: int) -> int:
    """After a task moved on (accepted): close its queue items that are no longer true.
    Idempotent: a closed item is not closed again."""
    return watch_tidy(task_id=task_id)
