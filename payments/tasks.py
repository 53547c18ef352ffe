"""Celery tasks: thin, taking ids or nothing; the work is in payments/services."""

from __future__ import annotations

import logging

from celery import shared_task

from payments import stripe_client
from payments.services import (
    membership_reminders_send,
    membership_statuses_advance,
    stripe_reconcile,
)
from payments.services.membership import renewal_reminder_email_send

logger = logging.getLogger(__name__)


@shared_task
def membership_daily() -> dict[str, object]:
    """Move statuses on (active → grace → lapsed) and send renewal reminders. Safe to run as
    often as wanted: each period is acted on once."""
    changed = membership_statuses_advance()
    reminders = membership_reminders_send()
    logger.info("membership: %s status changes, %s reminders", changed, reminders)
    return {"changed": changed, "reminders": reminders}


@shared_task
def renewal_reminder_email(period_id: int) -> None:
    renewal_reminder_email_send(period_id=period_id)


@shared_task
def payments_reconcile() -> dict[str, int]:
    if not stripe_client.configured():
        return {}
    return stripe_reconcile()
