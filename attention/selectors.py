"""Reads of the attention queue, and the scoped lookup its views use."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from attention.models import Item
from circle.errors import Forbidden, NotFound
from circle.models import Circle
from members.models import Member
from members.selectors import Caller, caller_for


def item_access(*, user: Any, item_id: int) -> tuple[Item, Caller]:
    """An item of a circle where the caller is staff. In a circle where they are nobody it is
    not found (404), so nobody learns what another circle holds."""
    item = None
    if getattr(user, "is_authenticated", False):
        circles = Member.objects.filter(user=user).values("circle_id")
        item = (
            Item.objects.select_related("circle", "member")
            .filter(pk=item_id, circle_id__in=circles)
            .first()
        )
    if item is None:
        raise NotFound("No such followup.", code="followup_not_found")
    caller = caller_for(user=user, circle=item.circle)
    if not caller.is_staff:
        raise Forbidden("forbidden", "Only the circle's staff work through follow-ups.")
    return item, caller


def item_list(*, circle: Circle, done: bool = False) -> QuerySet[Item]:
    """The circle's queue: open items oldest first (ring those waiting longest first), or the
    ones already done."""
    return (
        Item.objects.filter(circle=circle, done_at__isnull=not done)
        .select_related("member")
        .order_by("created_at", "id")
    )


def member_open_items(*, member: Member) -> QuerySet[Item]:
    """What is still waiting on staff about one member (the caller's card shows it while they
    are on the phone), oldest first, as the queue orders it."""
    return Item.objects.filter(
        circle_id=member.circle_id, member=member, done_at__isnull=True
    ).order_by("created_at", "id")
