from __future__ import annotations

from typing import Any

from circle.errors import Forbidden, NotFound
from helpers.models import Helper, VettingCheck
from members.models import Member, RoleName, User
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
