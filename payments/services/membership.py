"""Membership years and the status they give a member, over time.

Status (DESIGN.md): `pending` (never paid) → `active` (a paid year covers today) → `grace` (a
card renewal failed, or the last year ended less than `MEMBERSHIP_GRACE_DAYS` ago; still served;
an operator follow-up is queued) → `lapsed`. `membership_status_due` is the one rule; payments
(offline and card) apply it as they add a year, the webhook as a renewal fails, and the periodic
job (`membership_statuses_advance`) as days pass. Each change locks the member, re-reads what is
due and writes an audit row, so two of them at once, or the job run twice, act once.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone

from attention.models import Item, ItemKind
from attention.services import item_raise, items_close
from circle.queueing import enqueue
from members.models import Member, MembershipStatus
from members.selectors import Caller
from members.services import audit_record
from payments.models import MembershipPeriod, Payment, Refund
from payments.selectors import one_year_from
from tokens.selectors import member_available

logger = logging.getLogger(__name__)


def status_rule(
    *,
    current: str,
    covered: bool,
    covered_but_failed: bool,
    paid_ahead: bool,
    paid_until: date | None,
    today: date,
) -> str:
    """The one rule for a member's status, from facts about their periods: `covered`, a paid
    year covers today; `covered_but_failed`, one does but its card renewal failed; `paid_ahead`,
    a year starting after today is paid; `paid_until`, the last paid day."""
    if covered:
        return MembershipStatus.ACTIVE
    if covered_but_failed:
        # The year still runs but its renewal failed: grace, unless the next year has been paid
        # for since (a retried charge, or cash).
        return MembershipStatus.ACTIVE if paid_ahead else MembershipStatus.GRACE
    if paid_until is None or paid_until > today:
        # Never paid, or paid only for a year that has not begun (a member paying ahead while
        # pending keeps their status until it starts).
        return current
    if today <= paid_until + timedelta(days=settings.MEMBERSHIP_GRACE_DAYS):
        return MembershipStatus.GRACE
    return MembershipStatus.LAPSED


def membership_status_due(*, member: Member, today: date) -> str:
    """What the member's status should be today, from their stored periods alone."""
    periods = MembershipPeriod.objects.filter(member=member)
    covering = periods.filter(start__lte=today, end__gte=today)
    return status_rule(
        current=member.membership_status,
        covered=covering.filter(renewal_failed_at__isnull=True).exists(),
        covered_but_failed=covering.filter(renewal_failed_at__isnull=False).exists(),
        paid_ahead=periods.filter(start__gt=today).exists(),
        paid_until=periods.aggregate(end=Max("end"))["end"],
        today=today,
    )


def period_cause(period: MembershipPeriod) -> str:
    """How an attention item names the membership period that raised it."""
    return f"membership_period:{period.pk}"


def attention_raise(
    *,
    member: Member,
    kind: str,
    period: MembershipPeriod | None = None,
    refund: Refund | None = None,
    note: str = "",
) -> Item | None:
    """Put someone on the circle's attention queue, once per period (or refund) and kind.
    Call inside the change's transaction. None when it was already raised."""
    cause = period_cause(period) if period else f"refund:{refund.pk}" if refund else ""
    return item_raise(
        member=member,
        kind=kind,
        cause=cause,
        note=note,
        audit_data={"period_id": period.pk if period else None},
    )


def _status_apply(
    *, locked: Member, to: str, caller: Caller | None, why: str, period: MembershipPeriod | None
) -> bool:
    """Move a locked member to `to`, with its audit row and, into grace, a follow-up."""
    previous = locked.membership_status
    if previous == to:
        return False
    Member.objects.filter(pk=locked.pk, membership_status=previous).update(membership_status=to)
    locked.membership_status = to
    audit_record(
        circle=locked.circle,
        action="membership.status_changed",
        caller=caller,
        member=locked,
        reason=why,
        data={"from": previous, "to": to, "period_id": period.pk if period else None},
    )
    if to == MembershipStatus.GRACE and period is not None:
        kind = ItemKind.RENEWAL_FAILED if period.renewal_failed_at else ItemKind.GRACE
        attention_raise(
            member=locked,
            kind=kind,
            period=period,
            note=f"Membership paid until {period.end.isoformat()}; {why}. Still served for now.",
        )
    if to == MembershipStatus.LAPSED and period is not None:
        tokens = member_available(member=locked)
        if tokens > 0:
            # Their tokens stay theirs; a coordinator decides with them what becomes of them
            # (a refund, a gift to the pot, or waiting for them to renew).
            attention_raise(
                member=locked,
                kind=ItemKind.LAPSED_TOKENS,
                period=period,
                note=(
                    f"Membership lapsed (paid until {period.end.isoformat()}) with "
                    f"{tokens} minutes of tokens left in their wallet."
                ),
            )
    if to == MembershipStatus.LAPSED:
        items_close(
            member=locked,
            kinds=[ItemKind.GRACE_ENDING],
            caller=caller,
            note="Closed by itself: the grace ended and the membership lapsed.",
        )
    if to == MembershipStatus.ACTIVE:
        # Renewed: their grace running out and their lapsed tokens need nobody now.
        items_close(
            member=locked,
            kinds=[ItemKind.GRACE_ENDING, ItemKind.LAPSED_TOKENS],
            caller=caller,
            note="Closed by itself: the membership was renewed.",
        )
    return True


def membership_period_add(
    *,
    member: Member,
    payment: Payment,
    caller: Caller | None = None,
    stripe_subscription_id: str = "",
) -> MembershipPeriod:
    """A paid year, starting today or, for a member paying ahead, the day after their last
    paid year ends. Makes the member `active` when the year covers today. Call inside the
    payment's transaction. `caller` is the staff member who took the money (None: the system,
    e.g. a card payment's webhook), named as the actor of the status change it causes."""
    today = timezone.localdate()
    # Lock the member so two payments at once make two consecutive years, not one year twice.
    locked = Member.objects.select_for_update().select_related("circle").get(pk=member.pk)
    last = (
        MembershipPeriod.objects.filter(member=locked)
        .order_by("-end")
        .values_list("end", flat=True)
        .first()
    )
    start = max(today, last + timedelta(days=1)) if last else today
    period = MembershipPeriod.objects.create(
        circle=locked.circle,
        member=locked,
        start=start,
        end=one_year_from(start),
        amount=payment.amount,
        payment=payment,
        stripe_subscription_id=stripe_subscription_id,
    )
    # A payment only ever brings a member to active (today covered, or a failed renewal now
    # paid for); a year paid ahead leaves the status to the periodic job.
    if membership_status_due(member=locked, today=today) == MembershipStatus.ACTIVE:
        _status_apply(
            locked=locked, to=MembershipStatus.ACTIVE, caller=caller, why="paid", period=period
        )
    member.membership_status = locked.membership_status
    return period


def membership_renewal_failed(*, member: Member, period: MembershipPeriod, why: str) -> bool:
    """A card renewal of `period` failed: mark it (once) and move the member to grace, with an
    operator follow-up. Call inside a transaction. False when already marked."""
    locked = Member.objects.select_for_update().select_related("circle").get(pk=member.pk)
    marked = MembershipPeriod.objects.filter(pk=period.pk, renewal_failed_at__isnull=True).update(
        renewal_failed_at=timezone.now()
    )
    if not marked:
        return False
    period.refresh_from_db()
    due = membership_status_due(member=locked, today=timezone.localdate())
    if not _status_apply(locked=locked, to=due, caller=None, why=why, period=period):
        # Already in grace (the year had ended): the follow-up still names the failure.
        attention_raise(
            member=locked,
            kind=ItemKind.RENEWAL_FAILED,
            period=period,
            note=f"Card renewal failed ({why}); membership paid until {period.end.isoformat()}.",
        )
    return True


# --- The periodic job -------------------------------------------------------------------------


GRACE_ENDING_WITHIN_DAYS = 7


def grace_ending_raise(*, today: date | None = None) -> int:
    """The periodic job: every member in grace whose grace ends within
    GRACE_ENDING_WITHIN_DAYS days (their last paid day plus MEMBERSHIP_GRACE_DAYS) goes on
    the queue for a last call before they lapse, once per paid year (its period is the
    cause). Idempotent: a second run raises nothing. How many were raised."""
    today = today or timezone.localdate()
    grace = timedelta(days=settings.MEMBERSHIP_GRACE_DAYS)
    latest = MembershipPeriod.objects.filter(member=OuterRef("pk")).order_by("-end")
    rows = (
        Member.objects.filter(membership_status=MembershipStatus.GRACE)
        .annotate(paid_until=Max("membership_periods__end"))
        .filter(paid_until__lte=today - grace + timedelta(days=GRACE_ENDING_WITHIN_DAYS))
        .annotate(period_id=Subquery(latest.values("pk")[:1]))
        .select_related("circle")
    )
    raised = 0
    for member in rows:
        ends = member.paid_until + grace
        period = MembershipPeriod(pk=member.period_id, end=member.paid_until)
        with transaction.atomic(durable=True):
            item = attention_raise(
                member=member,
                kind=ItemKind.GRACE_ENDING,
                period=period,
                note=(
                    f"Membership paid until {member.paid_until.isoformat()}; "
                    f"grace ends {ends.isoformat()}, then they lapse. Ring before then."
                ),
            )
        raised += item is not None
    return raised


def membership_statuses_advance(*, today: date | None = None) -> dict[str, int]:
    """Move every member whose status is out of date to what their periods say today.
    Idempotent: a second run finds nothing to change. Returns how many moved, by status."""
    today = today or timezone.localdate()
    periods = MembershipPeriod.objects.filter(member=OuterRef("pk"))
    covering = periods.filter(start__lte=today, end__gte=today)
    candidates = (
        Member.objects.filter(membership_periods__isnull=False)
        .annotate(
            paid_until=Max("membership_periods__end"),
            covered=Exists(covering.filter(renewal_failed_at__isnull=True)),
            covered_but_failed=Exists(covering.filter(renewal_failed_at__isnull=False)),
            paid_ahead=Exists(periods.filter(start__gt=today)),
        )
        .values_list(
            "pk", "membership_status", "covered", "covered_but_failed", "paid_ahead", "paid_until"
        )
    )
    changed: dict[str, int] = {}
    for member_id, status, covered, failed, ahead, paid_until in candidates:
        # Read once for all; only members whose status is out of date are locked, and the
        # rule is applied again under the lock (a payment may have come meanwhile).
        due = status_rule(
            current=status,
            covered=covered,
            covered_but_failed=failed,
            paid_ahead=ahead,
            paid_until=paid_until,
            today=today,
        )
        if due == status:
            continue
        with transaction.atomic(durable=True):
            locked = Member.objects.select_for_update().select_related("circle").get(pk=member_id)
            due = membership_status_due(member=locked, today=today)
            latest = MembershipPeriod.objects.filter(member=locked).order_by("-end").first()
            why = {
                str(MembershipStatus.ACTIVE): "a paid year covers today",
                str(MembershipStatus.GRACE): "the paid year has ended",
                str(MembershipStatus.LAPSED): (
                    f"the paid year ended more than {settings.MEMBERSHIP_GRACE_DAYS} days ago"
                ),
            }.get(due, "")
            if _status_apply(locked=locked, to=due, caller=None, why=why, period=latest):
                changed[due] = changed.get(due, 0) + 1
    return changed


def membership_reminders_send(*, today: date | None = None) -> int:
    """Tell members whose year ends within `MEMBERSHIP_REMINDER_DAYS` (by email, or through an
    operator's follow-up for those without one), once per period: the marker is set by a
    conditional update, so a second run, or two at once, send nothing more."""
    today = today or timezone.localdate()
    later = MembershipPeriod.objects.filter(member=OuterRef("member"), end__gt=OuterRef("end"))
    due = (
        MembershipPeriod.objects.filter(
            end__gte=today,
            end__lte=today + timedelta(days=settings.MEMBERSHIP_REMINDER_DAYS),
            reminder_sent_at__isnull=True,
            member__membership_status=MembershipStatus.ACTIVE,
        )
        .exclude(Exists(later))
        .values_list("pk", flat=True)
    )
    sent = 0
    for period_id in list(due):
        with transaction.atomic(durable=True):
            claimed = MembershipPeriod.objects.filter(
                pk=period_id, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=timezone.now())
            if not claimed:
                continue
            period = MembershipPeriod.objects.select_related("member__circle").get(pk=period_id)
            member = period.member
            renews = member.subscriptions.filter(
                status__in=["active", "trialing"], cancel_at_period_end=False
            ).exists()
            how = "email" if member.email else "operator"
            audit_record(
                circle=member.circle,
                action="membership.reminder_sent",
                member=member,
                data={"period_id": period.pk, "by": how, "card_renews": renews},
            )
            if member.email:
                transaction.on_commit(
                    lambda pid=period.pk: _reminder_email_later(pid)  # type: ignore[misc]
                )
            else:
                note = f"Membership ends {period.end.isoformat()}; " + (
                    "their card renews it automatically." if renews else "ask them to renew."
                )
                attention_raise(
                    member=member, kind=ItemKind.RENEWAL_REMINDER, period=period, note=note
                )
            sent += 1
    return sent


def _reminder_email_later(period_id: int) -> None:
    from payments.tasks import renewal_reminder_email

    # A broker that is down fails nothing: `reminder_emails_sweep` sends it later.
    enqueue(renewal_reminder_email, period_id)


def reminder_emails_sweep(*, now: datetime | None = None) -> int:
    """The periodic job's outbox: reminder emails decided (`reminder_sent_at`) more than
    `OUTBOX_SWEEP_AFTER_SECONDS` ago and not yet sent, because the queue could not take them
    or the worker died; each is sent by `renewal_reminder_email_send`, which claims it. Older
    than `OUTBOX_SWEEP_WITHIN_HOURS` is left alone: a reminder days late would mislead."""
    now = now or timezone.now()
    due = MembershipPeriod.objects.filter(
        reminder_sent_at__lte=now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS),
        reminder_sent_at__gte=now - timedelta(hours=settings.OUTBOX_SWEEP_WITHIN_HOURS),
        reminder_emailed_at__isnull=True,
    ).values_list("pk", flat=True)
    return sum(renewal_reminder_email_send(period_id=pid) for pid in list(due))


def renewal_reminder_email_send(*, period_id: int) -> bool:
    """Email the period's reminder if this call is the one to claim it (a conditional update of
    `reminder_emailed_at`), so the queued job and the sweep, or a job delivered twice, send it
    once. As with notices, a send that fails after its claim is logged, not retried."""
    claimed = MembershipPeriod.objects.filter(
        pk=period_id, reminder_sent_at__isnull=False, reminder_emailed_at__isnull=True
    ).update(reminder_emailed_at=timezone.now())
    if not claimed:
        return False
    period = MembershipPeriod.objects.select_related("member__circle").get(pk=period_id)
    member = period.member
    if not member.email:
        return False
    circle = member.circle
    renews = member.subscriptions.filter(
        status__in=["active", "trialing"], cancel_at_period_end=False
    ).exists()
    fee = period.amount
    if renews:
        what = (
            f"Your card will be charged {fee} for another year on or just after "
            f"{period.end + timedelta(days=1):%d %B %Y}. You need do nothing."
        )
    else:
        what = "To keep asking for help, please renew: online, or by phoning us."
    try:
        send_mail(
            subject=f"{circle.name}: your membership ends on {period.end:%d %B %Y}",
            message=f"Dear {member.first_name},\n\n{what}\n\n{circle.name}",
            from_email=None,
            recipient_list=[member.email],
        )
    except Exception:
        logger.exception("sending the reminder for period %s failed", period_id)
    return True
