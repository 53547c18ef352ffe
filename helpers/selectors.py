from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncMonth

from circle.errors import Forbidden, NotFound
from circle.models import Circle
from circle.periods import ReportPeriod, local_date
from helpers.models import Helper, VettingCheck
from members.models import JoinedVia, Member, RoleName, User
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
