"""Celery tasks for matching: thin, taking ids; the work is in notify.py and services.py.

Each is safe to run twice (a retry, a duplicated beat, two workers): sending claims its notice,
a wave claims the task's due wave, expiry and series booking find their work already done.
"""

from __future__ import annotations

from celery import shared_task

from matching import notify, services


@shared_task
def send_notice(notice_id: int) -> bool:
    return notify.notice_send(notice_id=notice_id)


@shared_task
def offer_task(task_id: int, excluding: int | None = None) -> int:
    return len(notify.offer_wave(task_id=task_id, excluding=excluding))


@shared_task
def offer_waves_due() -> int:
    return notify.offer_waves_due()


@shared_task
def expire_tasks() -> int:
    return services.tasks_expire()


@shared_task
def book_series_ahead() -> int:
    return services.series_book_all()
