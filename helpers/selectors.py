from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import models
from django.db.models import Case, Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circle.errors import Forbidden, NotFound
from circle.models import Circle, VettingLevel
from circle.periods import ReportPeriod, local_date
from helpers.models import Helper, HelperSkill, VettingCheck
from members.models import AuditEvent, JoinedVia, Member, RoleName, User
from members.selectors import Caller, caller_for


def helper_access(
    *, user: Any, helper_id: int, coordinator_only: bool = False
) -> tuple[Helper, Caller]:
    """The helper with this id for the helper themselves or their circle's coordinators
    (only coordinators when `coordinator_only`). Another circle's helper is not found."""
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotFound("No such helper.", code="helper_not_found")
    helper = (
        Helper.objects.select_related("circle", "member")
        .prefetch_related("skill_rows__category", "availability")
        .filter(pk=helper_id, circle_id__in=Member.objects.filter(user=user).values("circle_id"))
        .first()
    )
    if helper is None:
        raise NotFound("No such helper.", code="helper_not_found")
    caller = caller_for(user=user, circle=helper.circle)
    if RoleName.COORDINATOR in caller.roles:
        return helper, caller
    if not coordinator_only and helper.member.user_id == user.pk:
        return helper, caller
    raise Forbidden(
        "forbidden",
        "Only the circle's coordinators can do this."
        if coordinator_only
        else "Only the helper and the circle's coordinators can see this profile.",
    )


def helper_latest_check(*, helper: Helper) -> VettingCheck | None:
    return VettingCheck.objects.filter(helper=helper).order_by("-recorded_at", "-id").first()


# --- The coordinators' desk: the helpers and their checks --------------------------------------

# A DBS certificate is taken as good for this many years from its issue date (the circle's rule,
# as the issue says); the desk flags checks falling due within DUE_SOON_MONTHS of that.
DBS_VALID_YEARS = 3
DUE_SOON_MONTHS = 3


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has no such day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _due(issued: date) -> date:
    return _add_months(issued, 12 * DBS_VALID_YEARS)


def dbs_due(issued: date | None) -> date | None:
    """When checks made on a certificate issued that day fall due again: 3 years on (a 29
    February certificate falls due on 28 February)."""
    return None if issued is None else _due(issued)


def dbs_due_soon(issued: date | None, *, today: date | None = None) -> bool:
    """Due within DUE_SOON_MONTHS from today, or already past."""
    if issued is None:
        return False
    return _due(issued) <= _add_months(today or timezone.localdate(), DUE_SOON_MONTHS)


def _due_soon_issued_by(today: date) -> date:
    """The latest issue date whose checks dbs_due_soon calls due, for the list's SQL. Going
    back 3 years from the horizon can land a day short (the horizon is 28 February, and a 29
    February certificate is due then too), so the day after is tried as well."""
    horizon = _add_months(today, DUE_SOON_MONTHS)
    last = _add_months(horizon, -12 * DBS_VALID_YEARS)
    following = last + timedelta(days=1)
    return following if _due(following) <= horizon else last


class HelperShow(models.TextChoices):
    """The helpers list's filters."""

    WAITING = "waiting", _("Waiting for checks")
    DUE = "due", _("Checks due soon")
    VETTED = "vetted", _("Vetted")
    SUSPENDED = "suspended", _("Suspended")
    PAUSED = "paused", _("Paused")


def _latest_check() -> QuerySet[VettingCheck]:
    return VettingCheck.objects.filter(helper=OuterRef("pk")).order_by("-recorded_at", "-id")


def _show_filter(show: str, today: date) -> Q:
    waiting = Q(vetting_level=VettingLevel.NONE, suspended=False)
    return {
        HelperShow.WAITING: waiting,
        HelperShow.DUE: Q(dbs_issued__lte=_due_soon_issued_by(today))
        & ~Q(vetting_level=VettingLevel.NONE),
        HelperShow.VETTED: ~Q(vetting_level=VettingLevel.NONE),
        HelperShow.SUSPENDED: Q(suspended=True),
        HelperShow.PAUSED: Q(paused=True),
    }.get(show, Q())  # type: ignore[call-overload]


def helper_desk_list(
    *, circle: Circle, show: str = "", today: date | None = None
) -> QuerySet[Helper]:
    """The circle's helpers for its coordinators: those waiting for checks first (the longest
    waiting first), then the rest by name; each with the date of their latest check and its DBS
    certificate's issue date (`last_checked_at`, `dbs_issued`), their member and their skills.
    `show` is one of HelperShow to narrow it."""
    today = today or timezone.localdate()
    latest = _latest_check()
    rows = (
        Helper.objects.filter(circle=circle)
        .select_related("member")
        .prefetch_related(
            Prefetch(
                "skill_rows",
                queryset=HelperSkill.objects.select_related("category").order_by("category__name"),
            )
        )
        .annotate(
            last_checked_at=Subquery(latest.values("recorded_at")[:1]),
            dbs_issued=Subquery(latest.values("dbs_issue_date")[:1]),
            waiting=Case(
                When(vetting_level=VettingLevel.NONE, suspended=False, then=Value(0)),
                default=Value(1),
            ),
        )
    )
    if show:
        rows = rows.filter(_show_filter(show, today))
    return rows.order_by(
        "waiting", Case(When(waiting=0, then="created_at")), "member__full_name", "id"
    )


def helper_desk_counts(*, circle: Circle, today: date | None = None) -> dict[str, int]:
    """How many of the circle's helpers each of HelperShow's filters shows, and all, at once."""
    today = today or timezone.localdate()
    rows = Helper.objects.filter(circle=circle).annotate(
        dbs_issued=Subquery(_latest_check().values("dbs_issue_date")[:1])
    )
    counts = rows.aggregate(
        all=Count("pk"),
        **{show.value: Count("pk", filter=_show_filter(show, today)) for show in HelperShow},
    )
    return {name: int(value or 0) for name, value in counts.items()}


def helper_get(*, circle: Circle, helper_id: int) -> Helper:
    """One helper of this circle, with their member and skills; another circle's is not found."""
    helper = (
        Helper.objects.select_related("member")
        .prefetch_related(
            Prefetch(
                "skill_rows",
                queryset=HelperSkill.objects.select_related("category").order_by("category__name"),
            )
        )
        .filter(circle=circle, pk=helper_id)
        .first()
    )
    if helper is None:
        raise NotFound("No such helper.", code="helper_not_found")
    return helper


def helper_check_list(*, helper: Helper, limit: int = 10) -> list[VettingCheck]:
    """The helper's recorded checks, newest first, with who recorded each."""
    return list(
        VettingCheck.objects.filter(helper=helper)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-id")[:limit]
    )


SUSPENSION_ACTIONS = ("helper.suspended", "helper.reinstated")


def helper_suspension_history(*, helper: Helper, limit: int = 20) -> list[AuditEvent]:
    """Each suspension and reinstatement of the helper, newest first, from the audit log, with
    who did it and why."""
    return list(
        AuditEvent.objects.filter(
            circle_id=helper.circle_id, member_id=helper.member_id, action__in=SUSPENSION_ACTIONS
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def helper_id_of(*, circle: Circle, member_id: int) -> int | None:
    """The id of the helper profile of this member record in this circle, if they have one."""
    return (
        Helper.objects.filter(circle=circle, member_id=member_id)
        .values_list("pk", flat=True)
        .first()
    )


def helper_names(*, circle: Circle) -> list[tuple[int, str]]:
    """Every helper of the circle as (id, name), by name: for a list to choose one from."""
    return list(
        Helper.objects.filter(circle=circle)
        .order_by("member__full_name", "id")
        .values_list("pk", "member__full_name")
    )


# --- Reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BecameHelpersMonth:
    """Members who became helpers in `month`: people who first joined the circle some other
    way (as members, online or by phone) and then took on a helper profile."""

    month: date
    helpers: int


def members_became_helpers_by_month(
    *, circle: Circle, period: ReportPeriod
) -> list[BecameHelpersMonth]:
    """One grouped query: helper profiles made in the period whose member holds the member
    role and did not join as a helper (`joined_via` other than helper sign-up)."""
    rows = (
        Helper.objects.filter(
            circle_id=circle.pk, created_at__gte=period.start, created_at__lt=period.end
        )
        .filter(member__roles__role=RoleName.MEMBER)
        .exclude(member__joined_via=JoinedVia.HELPER_SIGNUP)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("id"))
        .values_list("month", "n")
    )
    found = {local_date(month): n for month, n in rows}
    return [BecameHelpersMonth(month, found.get(month, 0)) for month in period.month_starts()]
