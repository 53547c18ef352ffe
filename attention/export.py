"""The attention queue's part of a member's data export (members/export.py): the items
about them, except safeguarding concerns, which never reach the person they are about."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from attention.models import Item, ItemKind
from members.models import Member


def safeguarding_audit(member: Member) -> Q:
    """The audit rows about this member's safeguarding items (queued, claimed, noted, done),
    which name the item by followup_id. One query."""
    ids = list(
        Item.objects.filter(
            circle_id=member.circle_id, member=member, kind=ItemKind.SAFEGUARDING
        ).values_list("pk", flat=True)
    )
    if not ids:
        return Q(pk__in=[])
    return Q(data__has_key="followup_id") & Q(data__followup_id__in=ids)


def member_export_part(member: Member) -> dict[str, Any]:
    """One query."""
    items = (
        Item.objects.filter(circle_id=member.circle_id, member=member)
        .exclude(kind=ItemKind.SAFEGUARDING)
        .order_by("-created_at", "-id")
    )
    return {
        "items": [
            {
                "created_at": item.created_at,
                "kind": item.kind,
                "what": str(ItemKind(item.kind).label),
                "note": item.note,
                "done_at": item.done_at,
                "done_note": item.done_note,
            }
            for item in items
        ]
    }
