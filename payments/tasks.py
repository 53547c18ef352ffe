"""Celery tasks: thin, taking ids or nothing; the work is in payments/services.

Every task is acknowledged late and given back to the queue if its worker process dies
(CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), so each may run twice; each says
below why twice acts once.
"""

from __future__ import annotations

import logging

from celery import shared_task

from payments import stripe_client
from payments.services import (
    membership_reminders_send,
    membership_statuses_advance,
    stripe_reconcile,
)
from payments.services.membership import (
    grace_ending_raise,
    reminder_emails_sweep,
    renewal_reminder_email_send,
)

logger = logging.getLogger(__name__)


@shared_task
def membership_daily() -> dict[str, object]:
    """Move statuses on (active → grace → lapsed) and send renewal reminders. Idempotent: a
    status changes under the member's lock only when it is due, and each period's reminder is
    claimed by a conditional update of its marker."""
    changed = membership_statuses_advance()
    reminders = membership_reminders_send()
    logger.info("membership: %s status changes, %s reminders", changed, reminders)
    return {"changed": changed, "reminders": reminders}


@shared_task
def renewal_reminder_email(period_id: int) -> bool:
    """Email one period's renewal reminder. Idempotent: the email is claimed (its
    `reminder_emailed_at` set by a conditional update) before it is sent."""
    return renewal_reminder_email_send(period_id=period_id)


@shared_task
def reminder_emails_outbox() -> int:
    """Periodic: reminder emails whose own job never ran. Idempotent as the email job is."""
    return reminder_emails_sweep()


@shared_task
def payments_reconcile() -> dict[str, int]:
    """Periodic: paid sessions and invoices no webhook delivered. Idempotent: each payment is
    applied once, keyed by its Stripe object, whatever else applied it first."""
    if not stripe_client.configured():
        return {}
    return stripe_reconcile()


@shared_task
def grace_ending_sweep() -> int:
    """Periodic: members whose grace ends within a week, onto the queue for a last call.
    Idempotent: each paid year is raised once (a unique constraint on the item's cause)."""
    return grace_ending_raise()


@shared_task
def retention_sweep() -> dict[str, int]:
    """Daily: members lapsed for more than RETENTION_YEARS are reported to their coordinators,
    then erased once the notice has run (payments/services/retention.py). Twice acts once: an
    item is raised once per cause, and an erased member is no longer due."""
    from payments.services.retention import retention_run

    return retention_run()
