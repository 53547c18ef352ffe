"""Writes to the attention queue: raising an item, claiming it, noting what was done, and
marking it done."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from attention.models import Item, Note
from circle.errors import Conflict, InvalidInput
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


NOTE_MAX = 1000
NOTE_RESENT_WITHIN = timedelta(minutes=2)


def _already_done() -> Conflict:
    return Conflict("already_done", "That follow-up was already marked done.")


def item_claim(*, item: Item, caller: Caller, take_over_from: int | None = None) -> Item:
    """`caller` takes the item on ("I'll ring them"). A conditional UPDATE, not a read then a
    write: of two staff claiming at once exactly one row update matches, so they never both
    ring. An item someone else holds is refused (409 `already_claimed`, naming them) unless
    the caller says whose it was (`take_over_from`, their user id), having asked them: the
    UPDATE then matches only while that person still holds it, so a take-over never takes it
    from a third person who claimed it in between. Claiming one's own item again changes
    nothing."""
    assert caller.user is not None
    now = timezone.now()
    with transaction.atomic(durable=True):
        open_item = Item.objects.filter(pk=item.pk, done_at__isnull=True)
        claimed = open_item.filter(claimed_by__isnull=True).update(
            claimed_by=caller.user, claimed_at=now
        )
        if not claimed and take_over_from is not None and take_over_from != caller.user.pk:
            claimed = open_item.filter(claimed_by_id=take_over_from).update(
                claimed_by=caller.user, claimed_at=now
            )
        if not claimed:
            current = (
                Item.objects.filter(pk=item.pk)
                .select_related("claimed_by")
                .only("done_at", "claimed_by__full_name", "claimed_by__email", "claimed_at")
                .get()
            )
            if current.done_at is not None:
                raise _already_done()
            holder = current.claimed_by
            if holder is not None and holder.pk == caller.user.pk:
                item.claimed_by, item.claimed_at = holder, current.claimed_at
                return item
            name = (holder.full_name or holder.email) if holder else "Someone"
            raise Conflict(
                "already_claimed",
                f"{name} is already dealing with this follow-up. Ask them before you take it over.",
            )
        audit_record(
            circle=item.circle,
            action="followup.claimed",
            caller=caller,
            member=item.member,
            data={
                "followup_id": item.pk,
                "kind": item.kind,
                "taken_over_from": take_over_from if take_over_from != caller.user.pk else None,
            },
        )
    item.refresh_from_db()
    return item


def item_note_add(*, item: Item, caller: Caller, text: str) -> Note:
    """A note on an open item, by `caller`, now. The words stay on the item, not in the audit
    row, which records only that a note was added (the log outlives the queue's details)."""
    assert caller.user is not None
    text = (text or "").strip()
    if not text:
        raise InvalidInput("required", "text: Write the note.", field="text")
    if len(text) > NOTE_MAX:
        raise InvalidInput(
            "too_long", f"text: A note is at most {NOTE_MAX} characters.", field="text"
        )
    with transaction.atomic(durable=True):
        # The item's row is locked so a note never lands on an item closed a moment before.
        locked = Item.objects.select_for_update().filter(pk=item.pk).values("done_at").get()
        if locked["done_at"] is not None:
            raise _already_done()
        # The same words from the same person a moment ago are the same note sent twice (a
        # double-click, a form sent again): answered with the first, written once.
        twice = Note.objects.filter(
            item=item,
            author=caller.user,
            text=text,
            created_at__gte=timezone.now() - NOTE_RESENT_WITHIN,
        ).first()
        if twice is not None:
            return twice
        note = Note.objects.create(circle=item.circle, item=item, author=caller.user, text=text)
        audit_record(
            circle=item.circle,
            action="followup.note_added",
            caller=caller,
            member=item.member,
            data={"followup_id": item.pk, "kind": item.kind, "note_id": note.pk},
        )
    return note
