"""The queue's part of erasing a member (members/erasure.py).

Items about the member keep their kind and dates (the desk's history) but lose the number to
ring and the member's words in their notes. Safeguarding concerns stay as they were written:
they are kept for the protection of others (UK GDPR art. 17(3): a legal obligation, and the
vital interests of people at risk), and erasure never touches them. While a concern about the
member is open, erasure waits (409 `concern_open`): it must be closed first."""

from __future__ import annotations

from django.db.models import Q

from attention.models import Concern, Item, ItemKind, Note
from circle.errors import Conflict, DomainError
from members.erasure import Erasure
from members.models import Member


def erase_refusal(member: Member) -> DomainError | None:
    open_concern = Concern.objects.filter(closed_at__isnull=True).filter(
        Q(about_member=member) | Q(about_helper=member)
    )
    if not open_concern.exists():
        return None
    return Conflict(
        "concern_open",
        f"A safeguarding concern about {member.first_name} is still open; close it first.",
    )


def erase_part(erasure: Erasure) -> None:
    member = erasure.member
    items = 0
    for item in (
        Item.objects.filter(circle_id=member.circle_id)
        .exclude(kind=ItemKind.SAFEGUARDING)
        .filter(Q(member=member) | erasure.quoting("note", "done_note"))
    ):
        own = item.member_id == member.pk
        Item.objects.filter(pk=item.pk).update(
            phone="" if own else item.phone,
            note=erasure.redact(item.note, own=own),
            done_note=erasure.redact(item.done_note, own=own),
        )
        items += 1
    for note in (
        Note.objects.filter(circle_id=member.circle_id)
        .exclude(item__kind=ItemKind.SAFEGUARDING)
        .filter(Q(item__member=member) | erasure.quoting("text"))
    ):
        text = erasure.redact(note.text, own=note.item.member_id == member.pk) or "[erased]"
        Note.objects.filter(pk=note.pk).update(text=text)
        items += 1
    erasure.count("attention", items)
