"""Reads of the attention queue, and the scoped lookup its views use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

from attention.models import (
    COORDINATOR_KINDS,
    OPERATOR_KINDS,
    URGENT_KINDS,
    Concern,
    ConcernNote,
    ConcernReading,
    Item,
    ItemKind,
    Note,
)
from circle.errors import Forbidden, NotFound
from circle.models import Circle
from members.models import Member, RoleName
from members.selectors import Caller, caller_for


def item_access(*, user: Any, item_id: int) -> tuple[Item, Caller]:
    """An item of a circle where the caller is staff. In a circle where they are nobody it is
    not found (404), so nobody learns what another circle holds."""
    item = None
    if getattr(user, "is_authenticated", False):
        circles = Member.objects.filter(user=user).values("circle_id")
        item = (
            Item.objects.select_related("circle", "member", "claimed_by")
            .filter(pk=item_id, circle_id__in=circles)
            .first()
        )
    if item is None:
        raise NotFound("No such followup.", code="followup_not_found")
    caller = caller_for(user=user, circle=item.circle)
    if not caller.is_staff:
        raise Forbidden("forbidden", "Only the circle's staff work through follow-ups.")
    if item.kind == ItemKind.SAFEGUARDING and RoleName.COORDINATOR not in caller.roles:
        # A concern is for coordinators only: to anyone else it does not exist.
        raise NotFound("No such followup.", code="followup_not_found")
    return item, caller


def item_list(*, circle: Circle, done: bool = False, coordinator: bool = True) -> QuerySet[Item]:
    """The circle's queue: open items oldest first (ring those waiting longest first), or the
    ones already done; without `coordinator`, no safeguarding items (a concern is for the
    circle's coordinators only)."""
    items = Item.objects.filter(circle=circle, done_at__isnull=not done)
    if not coordinator:
        items = items.exclude(kind=ItemKind.SAFEGUARDING)
    return items.select_related("member", "claimed_by").order_by("created_at", "id")


def queue_items(
    *, circle: Circle, kinds: Sequence[str] = OPERATOR_KINDS, limit: int | None = None
) -> list[Item]:
    """The open items of `kinds`, oldest first, with their member and who holds each: the
    operators' follow-ups by default. At most `limit` (those waiting longest)."""
    items = (
        Item.objects.filter(circle=circle, done_at__isnull=True, kind__in=list(kinds))
        .select_related("member", "claimed_by")
        .order_by(_urgent_first(), "created_at", "id")
    )
    return list(items[:limit] if limit is not None else items)


def _urgent_first() -> Case:
    """0 for the kinds that go to the top (safeguarding), 1 for the rest."""
    return Case(
        When(kind__in=list(URGENT_KINDS), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


HOLDERS = ("mine", "unassigned", "all")


def desk_items(
    *,
    circle: Circle,
    user_id: int,
    kinds: Sequence[str] = COORDINATOR_KINDS,
    holder: str = "all",
    limit: int | None = None,
) -> list[Item]:
    """The coordinators' queue: open items of `kinds`, safeguarding first, then the longest
    waiting; `holder` "mine" (held by `user_id`), "unassigned" (held by nobody) or "all". With
    the member, who holds each and who gave it to them, in one query."""
    items = Item.objects.filter(circle=circle, done_at__isnull=True, kind__in=list(kinds))
    if holder == "mine":
        items = items.filter(claimed_by_id=user_id)
    elif holder == "unassigned":
        items = items.filter(claimed_by__isnull=True)
    items = items.select_related("member", "claimed_by", "assigned_by").order_by(
        _urgent_first(), "created_at", "id"
    )
    return list(items[:limit] if limit is not None else items)


def desk_holder_counts(
    *, circle: Circle, user_id: int, kinds: Sequence[str] = COORDINATOR_KINDS
) -> dict[str, int]:
    """How many open items of `kinds` are the caller's, nobody's, and in all, in one query."""
    rows = Item.objects.filter(circle=circle, done_at__isnull=True, kind__in=list(kinds)).aggregate(
        all=Count("id"),
        mine=Count("id", filter=Q(claimed_by_id=user_id)),
        unassigned=Count("id", filter=Q(claimed_by__isnull=True)),
    )
    return {key: rows[key] or 0 for key in HOLDERS}


def queue_counts(*, circle: Circle, kinds: Sequence[str] = OPERATOR_KINDS) -> dict[str, int]:
    """How many open items of each of `kinds` wait, every kind named (0 when none), in one
    query."""
    counts = dict.fromkeys(kinds, 0)
    rows = (
        Item.objects.filter(circle=circle, done_at__isnull=True, kind__in=list(kinds))
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for kind, n in rows:
        counts[kind] = n
    return counts


def queue_item_get(*, circle: Circle, item_id: int, kinds: Sequence[str] = OPERATOR_KINDS) -> Item:
    """One item of the circle's queue of `kinds`, open or done; another circle's, or another
    desk's kind, is not found."""
    item = (
        Item.objects.select_related("circle", "member", "claimed_by", "done_by", "assigned_by")
        .filter(circle=circle, pk=item_id, kind__in=list(kinds))
        .first()
    )
    if item is None:
        raise NotFound("No such followup.", code="followup_not_found")
    return item


def note_list(*, item: Item) -> list[Note]:
    """An item's notes, oldest first, with their authors."""
    return list(
        Note.objects.filter(item=item).select_related("author").order_by("created_at", "id")
    )


def member_open_items(*, member: Member) -> QuerySet[Item]:
    """What is still waiting on staff about one member (the caller's card shows it while they
    are on the phone), oldest first, as the queue orders it."""
    # Not safeguarding concerns: the card is read with the member on the phone, and a concern
    # is the coordinators' to handle (their desk shows it first), not to read out.
    return (
        Item.objects.filter(circle_id=member.circle_id, member=member, done_at__isnull=True)
        .exclude(kind__in=list(URGENT_KINDS))
        .order_by("created_at", "id")
    )


# Safeguarding concerns: coordinators of the circle read them, and every reading is logged.


def concern_access(*, user: Any, concern_id: int) -> tuple[Concern, Caller, bool]:
    """A concern, the caller, and whether they may read it whole (a coordinator of its circle).
    Whoever raised it may see only that it was received and when it was closed (False); the
    circle's operators are refused (403); anyone else, the person it is about included, finds
    nothing (404), so nobody learns a concern exists."""
    concern = None
    if getattr(user, "is_authenticated", False):
        circles = Member.objects.filter(user=user).values("circle_id")
        concern = (
            Concern.objects.select_related("circle")
            .filter(pk=concern_id, circle_id__in=circles)
            .first()
        )
    if concern is None:
        raise NotFound("No such concern.", code="concern_not_found")
    caller = caller_for(user=user, circle=concern.circle)
    if caller.is_coordinator:
        return concern, caller, True
    if concern.raised_by_id == user.pk:
        return concern, caller, False
    if caller.is_staff:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")
    raise NotFound("No such concern.", code="concern_not_found")


def _concern_people(concerns: QuerySet[Concern]) -> QuerySet[Concern]:
    return concerns.select_related("about_member", "about_helper", "raised_by", "closed_by")


def concern_list(*, circle: Circle, caller: Caller, closed: bool = False) -> QuerySet[Concern]:
    """The circle's concerns for its coordinators, open ones (or closed ones), danger first
    then newest: who each is about and when it came, not what it says (reading it is opening
    it, which is logged)."""
    if not caller.is_coordinator or caller.member is None or caller.member.circle_id != circle.pk:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")
    return _concern_people(
        Concern.objects.filter(circle=circle, closed_at__isnull=not closed)
    ).order_by("-danger_now", "-received_at", "-id")


def concern_get(*, concern: Concern, caller: Caller) -> Concern:
    """A concern whole, with its notes and its readings, for a coordinator of its circle; the
    reading is logged first (who, when), so the log shows this one too."""
    if not caller.is_coordinator or caller.user is None or caller.member is None:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")
    if caller.member.circle_id != concern.circle_id:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")
    ConcernReading.objects.create(concern=concern, reader=caller.user)
    return (
        _concern_people(Concern.objects.filter(pk=concern.pk))
        .prefetch_related(
            Prefetch("notes", queryset=ConcernNote.objects.select_related("author")),
            Prefetch("readings", queryset=ConcernReading.objects.select_related("reader")),
        )
        .get()
    )


def concerns_raised(*, user: Any, circle: Circle) -> list[Concern]:
    """The concerns this person raised in the circle, newest first: only when each was received
    and closed are read (`id`, `received_at`, `closed_at`), never what it says or how it ended."""
    return list(
        Concern.objects.filter(circle=circle, raised_by=user)
        .only("id", "received_at", "closed_at")
        .order_by("-received_at", "-id")
    )


def concern_find(*, circle: Circle, concern_id: int) -> Concern:
    """A concern of this circle, for its coordinators' pages (whose decorator checked who they
    are); another circle's is not found."""
    concern = Concern.objects.select_related("circle").filter(pk=concern_id, circle=circle).first()
    if concern is None:
        raise NotFound("No such concern.", code="concern_not_found")
    return concern
