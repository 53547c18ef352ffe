"""Celery tasks for helpers: thin; the work is in helpers/services.py."""

from __future__ import annotations

from celery import shared_task

from helpers.services import checks_due_raise


@shared_task
def checks_due_sweep() -> int:
    """Periodic: helpers whose DBS certificate is more than three years old, onto the
    coordinators' queue. Idempotent: each check is raised once (a unique constraint on the
    item's cause), whichever run finds it first."""
    return checks_due_raise()
