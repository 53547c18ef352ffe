"""Retention: the personal data of members lapsed for more than RETENTION_YEARS is erased,
the same way as on request (members.erasure.member_erase), after notice to the circle's
coordinators.

It lives with the membership years because "lapsed that long" is theirs to say: a member is
due when their last paid year ended more than RETENTION_YEARS ago (or they joined that long ago
and never paid), nothing of theirs is in play (no minutes held, no request under way, no open
safeguarding concern: each app's erasure refusal), they hold no staff role, and nothing they
did as a member or a helper is that recent (each app's activity, registered with
members.erasure). Six years by default: the time the law asks a charity to keep its accounts,
and the time a claim may be brought.

The periodic job runs daily and is idempotent:
1. a member newly due goes on the coordinators' desk (an attention item `retention_due`, once
   per member and lapse: its cause), saying when they will be erased (RETENTION_NOTICE_DAYS
   later);
2. a coordinator who resolves that item holds them back (their outcome says why, and the audit
   keeps it); the job leaves them be for that lapse;
3. once the notice has run, one still due whose item is open is erased, and the item closes;
4. an open item whose member is no longer due (they renewed, helped, or were erased by hand)
   closes by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from attention.models import Item, ItemKind
from attention.services import item_close, item_raise
from circle import words
from circle.errors import DomainError
from circle.words import LONDON
from members.erasure import erase_refusals, member_erase, retention_active_since
from members.models import STAFF_ROLES, Member
from tokens.models import HoldStatus

CAUSE = "retention:"


@dataclass(frozen=True)
class Due:
    member: Member
    # The day their last paid year ended, or the day they joined if they never paid.
    lapsed_on: date

    @property
    def cause(self) -> str:
        return f"{CAUSE}{self.member.pk}:{self.lapsed_on.isoformat()}"


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year - years, day=28)


def retention_due(*, today: date) -> list[Due]:
    """Members due for erasure by retention today (see the module's docstring)."""
    years = settings.RETENTION_YEARS
    cutoff = years_before(today, years)
    cutoff_moment = datetime.combine(cutoff, time.min, tzinfo=LONDON)
    candidates = (
        Member.objects.filter(erased_at__isnull=True)
        .exclude(roles__role__in=STAFF_ROLES)
        .exclude(holds__status=HoldStatus.OPEN)
        .exclude(pk__in=retention_active_since(cutoff_moment))
        .annotate(paid_until=Max("membership_periods__end"))
        .filter(Q(paid_until__lt=cutoff) | Q(paid_until__isnull=True, created_at__lt=cutoff_moment))
        .select_related("circle")
        .order_by("circle_id", "pk")
    )
    due = []
    for member in candidates:
        if erase_refusals(member):
            continue
        lapsed_on = member.paid_until or timezone.localtime(member.created_at).date()
        due.append(Due(member=member, lapsed_on=lapsed_on))
    return due


def retention_run(*, report_only: bool = False, now: datetime | None = None) -> dict[str, int]:
    """The periodic job (and `manage.py retention`): report, then erase after notice.
    `report_only`: raise the desk's items but erase nobody. Counts of what it did."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    notice = timedelta(days=settings.RETENTION_NOTICE_DAYS)
    years = settings.RETENTION_YEARS
    counts = {"reported": 0, "waiting": 0, "held_back": 0, "erased": 0, "closed": 0}
    due = retention_due(today=today)
    causes = {found.cause for found in due}
    for found in due:
        item = Item.objects.filter(kind=ItemKind.RETENTION_DUE, cause=found.cause).first()
        if item is None:
            erase_on = words.day((now + notice).date(), with_year=True)
            with transaction.atomic(durable=True):
                raised = item_raise(
                    member=found.member,
                    kind=ItemKind.RETENTION_DUE,
                    cause=found.cause,
                    note=(
                        f"Lapsed since {words.day(found.lapsed_on, with_year=True)}, more than "
                        f"{years} years ago. Their personal data will be erased on {erase_on}, "
                        "unless you resolve this to hold them back (say why)."
                    ),
                )
            counts["reported"] += raised is not None
            continue
        if item.done_at is not None:
            counts["held_back"] += 1
            continue
        if report_only or item.created_at + notice > now:
            counts["waiting"] += 1
            continue
        try:
            member_erase(
                caller=None,
                member=found.member,
                reason=f"Retention: lapsed more than {years} years",
            )
        except DomainError:
            # Something of theirs came into play since (a booking, a concern): next time.
            counts["waiting"] += 1
            continue
        with transaction.atomic(durable=True):
            item_close(
                member=found.member,
                kind=ItemKind.RETENTION_DUE,
                cause=found.cause,
                caller=None,
                note="Erased: the notice ran out.",
            )
        counts["erased"] += 1
    stale = Item.objects.filter(kind=ItemKind.RETENTION_DUE, done_at__isnull=True).exclude(
        cause__in=causes
    )
    for item in stale.select_related("member__circle"):
        with transaction.atomic(durable=True):
            counts["closed"] += item_close(
                member=item.member,
                kind=ItemKind.RETENTION_DUE,
                cause=item.cause,
                caller=None,
                note="No longer due for erasure.",
            )
    return counts
