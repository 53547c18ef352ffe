"""Writes to the attention queue: raising an item, and marking it done."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from attention.models import Item
from circle.errors import Conflict
from members.models import Member
from members.selectors import Caller
from members.services import audit_record


def item_raise(
    *,
    member: Member,
    kind: str,
    cause: str = "",
    task_id: int | None = None,
    note: str = "",
    audit_data: dict[str, Any] | None = None,
) -> Item | None:
    """Put something about `member` on their circle's queue, once per `cause` and kind. Call
    inside the change's transaction, so the item and the change commit together. None when it
    was already raised. `audit_data` adds to what the audit row records."""
    try:
        # A savepoint: a second raise for the same cause leaves the caller's transaction usable.
        with transaction.atomic():
            item = Item.objects.create(
                circle=member.circle,
                member=member,
                kind=kind,
                cause=cause,
                task_id=task_id,
                phone=member.phone,
                note=note[:500],
            )
    except IntegrityError:
        return None
    audit_record(
        circle=member.circle,
        action="followup.queued",
        member=member,
        data={"followup_id": item.pk, "kind": kind, **(audit_data or {})},
    )
    return item


def item_done(*, item: Item, caller: Caller, note: str = "") -> Item:
    """Someone dealt with an item. Once: a second time is a 409."""
    with transaction.atomic(durable=True):
        done = Item.objects.filter(pk=item.pk, done_at__isnull=True).update(
            done_at=timezone.now(), done_by=caller.user, done_note=note.strip()[:500]
        )
        if not done:
            raise Conflict("already_done", "That follow-up was already marked done.")
        audit_record(
            circle=item.circle,
            action="followup.done",
            caller=caller,
            member=item.member,
            reason=note.strip()[:500],
            data={"followup_id": item.pk, "kind": item.kind},
        )
    item.refresh_from_db()
    return item


def item_close(*, member: Member, kind: str, cause: str, caller: Caller, note: str = "") -> bool:
    """What an item was raised for was dealt with elsewhere (an approval decided): mark its
    open item done, in the caller's transaction. False when none was open."""
    item = Item.objects.filter(
        circle=member.circle, kind=kind, cause=cause, done_at__isnull=True
    ).first()
    if item is None:
        return False
    done = Item.objects.filter(pk=item.pk, done_at__isnull=True).update(
        done_at=timezone.now(), done_by=caller.user, done_note=note.strip()[:500]
    )
    if done:
        audit_record(
            circle=member.circle,
            action="followup.done",
            caller=caller,
            member=member,
            reason=note.strip()[:500],
            data={"followup_id": item.pk, "kind": kind},
        )
    return bool(done)
