"""Tasks for tests of matching, made the way booking makes them: the member is funded through
`purchase_credit`, the estimate held through `hold_create`, and the task row points at the hold.

Tasks already taken (for "helped before" and "recent tasks") are written with their status,
helper and times set as the model's constraints require; a settled one has its hold settled
through `hold_settle`, so the books stay as they would be.
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from circle.models import Category, Circle, VettingLevel
from helpers.models import AvailabilitySlot, Helper
from matching.models import HelperPreference, Task, TaskStatus
from members.models import Member, RoleName
from tests.factories import HelperFactory, MemberFactory
from tokens.services import hold_create, hold_settle, purchase_credit

_numbers = itertools.count(1)


def make_task(
    *,
    member: Member,
    category: str | Category = "gardening",
    start: datetime | None = None,
    hours: float = 2,
    minutes: int = 60,
    status: str = TaskStatus.OPEN,
    helper: Helper | None = None,
    accepted_at: datetime | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Task:
    """A task of `member` (placed at their home unless told otherwise), with its hold."""
    number = next(_numbers)
    start = start or timezone.now() + timedelta(days=1)
    if isinstance(category, str):
        category = Category.objects.get(circle_id=member.circle_id, slug=category)
    purchase_credit(
        member=member, minutes=minutes, payment_key=f"test-task-{number}-{member.pk}", actor=None
    )
    hold = hold_create(member=member, minutes=minutes, reference=f"test-task-{number}", actor=None)
    taken = status in (TaskStatus.ACCEPTED, TaskStatus.COMPLETED, TaskStatus.SETTLED)
    if taken and helper is None:
        raise ValueError("a taken task needs its helper")
    done = status in (TaskStatus.COMPLETED, TaskStatus.SETTLED)
    task = Task.objects.create(
        circle_id=member.circle_id,
        member=member,
        category=category,
        title=f"Task {number}",
        window_start=start,
        window_end=start + timedelta(hours=hours),
        estimated_minutes=minutes,
        status=status,
        latitude=member.latitude if latitude is None else latitude,
        longitude=member.longitude if longitude is None else longitude,
        postcode_district=member.postcode.split()[0],
        hold=hold,
        helper=helper if taken else None,
        accepted_at=(accepted_at or timezone.now()) if taken else None,
        minutes_reported=minutes if done else None,
        minutes_billed=minutes if done else None,
        minutes_settled=minutes if status == TaskStatus.SETTLED else None,
        completed_at=timezone.now() if done else None,
        closed_at=timezone.now() if status == TaskStatus.SETTLED else None,
    )
    if status == TaskStatus.SETTLED:
        assert helper is not None
        hold_settle(hold=hold, minutes_done=minutes, helper=helper.member, actor=None)
    return task


# Kilometres per degree of latitude on geopy's sphere; a degree of longitude is this times the
# cosine of the latitude.
KM_PER_DEGREE = 6371.009 * math.pi / 180


def offset(
    latitude: Decimal, longitude: Decimal, *, north_km: float = 0, east_km: float = 0
) -> tuple[Decimal, Decimal]:
    """The point this many km north and east of another, to the columns' 5 decimal places."""
    lat = float(latitude) + north_km / KM_PER_DEGREE
    lon = float(longitude) + east_km / (KM_PER_DEGREE * math.cos(math.radians(float(latitude))))
    return Decimal(f"{lat:.5f}"), Decimal(f"{lon:.5f}")


def helper_near(
    member: Member,
    *,
    north_km: float = 0,
    east_km: float = 0,
    skills: list[str] | None = None,
    vetting_level: str = VettingLevel.BASIC,
    radius_km: str = "5",
    name: str | None = None,
    circle: Circle | None = None,
    **extra: Any,
) -> Helper:
    """A helper of the member's circle (or `circle`), placed relative to the member's home."""
    latitude, longitude = offset(
        member.latitude, member.longitude, north_km=north_km, east_km=east_km
    )
    person: dict[str, Any] = {"full_name": name} if name else {}
    helper_member = MemberFactory(
        circle=circle or member.circle,
        roles=[RoleName.HELPER],
        latitude=latitude,
        longitude=longitude,
        **person,
    )
    return HelperFactory(
        member=helper_member,
        skills=["gardening", "odd-jobs"] if skills is None else skills,
        vetting_level=vetting_level,
        travel_radius_km=Decimal(radius_km),
        **extra,
    )


def slot(helper: Helper, weekday: int, start: str, end: str) -> AvailabilitySlot:
    return AvailabilitySlot.objects.create(
        circle_id=helper.circle_id,
        helper=helper,
        weekday=weekday,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
    )


def word(member: Member, helper: Helper, kind: str) -> HelperPreference:
    """The member's preference about a helper (the preferences service is another branch's)."""
    return HelperPreference.objects.create(
        circle_id=member.circle_id, member=member, helper=helper, kind=kind
    )
