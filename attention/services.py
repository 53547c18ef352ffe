"""Writes to the attention queue: raising an item, claiming it, noting what was done, and
marking it done."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from attention.models import Concern, ConcernNote, Item, ItemKind, Note
from circle.errors import Conflict, Forbidden, InvalidInput
from circle.models import Circle
from members.models import STAFF_ROLES, Member, Role, RoleName, User
from members.selectors import Caller
from members.services import audit_record

# How a safeguarding item names the concern that raised it ("concern:12").
CONCERN_CAUSE = "concern:"


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
    """Someone dealt with an item. Once: a second time is a 409. A concern's item is not
    closed here (409 `concern_open`): closing it alone would leave the concern open with
    nobody looking at it; it closes with the concern."""
    if item.kind == ItemKind.SAFEGUARDING and item.cause.startswith(CONCERN_CAUSE):
        raise Conflict(
            "concern_open",
            "A concern's item closes when the concern is closed, with its outcome.",
        )
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


def item_close(
    *, member: Member, kind: str, cause: str, caller: Caller | None, note: str = ""
) -> bool:
    """What an item was raised for was dealt with elsewhere (an approval decided, a task
    accepted): mark its open item done, in the caller's transaction, so the queue never
    shows what no longer needs anyone. `caller` None: the system closed it (`done_by` stays
    empty and the note says why). False when none was open."""
    item = Item.objects.filter(
        circle=member.circle, kind=kind, cause=cause, done_at__isnull=True
    ).first()
    if item is None:
        return False
    done = Item.objects.filter(pk=item.pk, done_at__isnull=True).update(
        done_at=timezone.now(),
        done_by=caller.user if caller else None,
        done_note=note.strip()[:500],
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
            claimed_by=caller.user, claimed_at=now, assigned_by=None
        )
        if not claimed and take_over_from is not None and take_over_from != caller.user.pk:
            claimed = open_item.filter(claimed_by_id=take_over_from).update(
                claimed_by=caller.user, claimed_at=now, assigned_by=None
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


def _words_given(value: str, *, field: str, most: int, missing: str, too_long: str) -> str:
    """`value` stripped of spaces, or the 400 its field's own sentences give: `required` when
    blank, `too_long` past `most` characters."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput("required", f"{field}: {missing}", field=field)
    if len(value) > most:
        raise InvalidInput("too_long", f"{field}: {too_long}", field=field)
    return value


def item_note_add(*, item: Item, caller: Caller, text: str) -> Note:
    """A note on an open item, by `caller`, now. The words stay on the item, not in the audit
    row, which records only that a note was added (the log outlives the queue's details)."""
    assert caller.user is not None
    text = _words_given(
        text,
        field="text",
        most=NOTE_MAX,
        missing="Write the note.",
        too_long=f"A note is at most {NOTE_MAX} characters.",
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


OUTCOME_MAX = 500


def item_resolve(*, item: Item, caller: Caller, outcome: str) -> Item:
    """A coordinator resolves an item, saying in words what came of it (the outcome is
    required: the next person reading the history needs it). Once: a second time is a 409."""
    outcome = _words_given(
        outcome,
        field="outcome",
        most=OUTCOME_MAX,
        missing="Say what the outcome was.",
        too_long=f"An outcome is at most {OUTCOME_MAX} characters.",
    )
    return item_done(item=item, caller=caller, note=outcome)


def item_assign(*, item: Item, caller: Caller, to_user_id: int) -> Item:
    """A coordinator gives an open item to a named member of the circle's staff (an operator
    or a coordinator, themselves included), whoever had it before: the desk decides who does
    what. Someone not on the circle's staff is refused (400 `assignee_not_staff`); a closed
    item is a 409; giving it to whoever already has it changes nothing."""
    assert caller.user is not None
    staff = Role.objects.filter(
        circle_id=item.circle_id, role__in=STAFF_ROLES, member__user_id=to_user_id
    )
    if not staff.exists():
        raise InvalidInput(
            "assignee_not_staff",
            "assignee: Choose someone on the circle's staff.",
            field="assignee",
        )
    now = timezone.now()
    with transaction.atomic(durable=True):
        locked = (
            Item.objects.select_for_update()
            .filter(pk=item.pk)
            .values("done_at", "claimed_by_id")
            .get()
        )
        if locked["done_at"] is not None:
            raise _already_done()
        if locked["claimed_by_id"] == to_user_id:
            item.refresh_from_db()
            return item
        own = to_user_id == caller.user.pk
        Item.objects.filter(pk=item.pk).update(
            claimed_by_id=to_user_id, claimed_at=now, assigned_by=None if own else caller.user
        )
        audit_record(
            circle=item.circle,
            action="followup.assigned",
            caller=caller,
            member=item.member,
            data={
                "followup_id": item.pk,
                "kind": item.kind,
                "to_user_id": to_user_id,
                "from_user_id": locked["claimed_by_id"],
            },
        )
    item.refresh_from_db()
    return item


def staff_choices(*, circle_id: int) -> list[User]:
    """The people an item can be given to: the circle's operators and coordinators, by name."""
    ids = Role.objects.filter(circle_id=circle_id, role__in=STAFF_ROLES).values("member__user_id")
    return list(User.objects.filter(pk__in=ids).order_by("full_name", "email"))


def items_close(
    *,
    member: Member,
    kinds: Sequence[str],
    note: str,
    caller: Caller | None = None,
    task_id: int | None = None,
) -> int:
    """Every open item of `kinds` about `member` (and, given `task_id`, about that task) is
    no longer true (they renewed, so neither their grace ending nor their lapsed tokens need
    anyone; the task was accepted): closed, in the caller's transaction, each with its audit
    row. How many were closed."""
    closed = 0
    open_items = Item.objects.filter(
        circle_id=member.circle_id, member=member, kind__in=list(kinds), done_at__isnull=True
    )
    if task_id is not None:
        open_items = open_items.filter(task_id=task_id)
    for pk, kind in list(open_items.values_list("pk", "kind")):
        done = Item.objects.filter(pk=pk, done_at__isnull=True).update(
            done_at=timezone.now(),
            done_by=caller.user if caller else None,
            done_note=note.strip()[:500],
        )
        if done:
            closed += 1
            audit_record(
                circle=member.circle,
                action="followup.done",
                caller=caller,
                member=member,
                reason=note.strip()[:500],
                data={"followup_id": pk, "kind": kind},
            )
    return closed


# Safeguarding concerns. The words of a concern are for the circle's coordinators: neither the
# queue's item nor any audit row quotes them.

CONCERN_MAX = 5000
CONCERN_NOTE_MAX = 2000


def _concern_coordinator(*, concern: Concern, caller: Caller) -> None:
    if caller.user is None or not caller.is_coordinator or caller.member is None:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")
    if caller.member.circle_id != concern.circle_id:
        raise Forbidden("concern_forbidden", "Only the circle's coordinators can read a concern.")


def _concern_open(concern: Concern) -> None:
    if concern.closed_at is not None:
        raise Conflict("concern_closed", "This concern is closed.")


def _about(*, circle: Circle, member_id: int | None, field: str, helper: bool) -> Member | None:
    if member_id is None:
        return None
    about = Member.objects.filter(circle=circle, pk=member_id).first()
    if about is None:
        raise InvalidInput(
            "concern_person_unknown",
            f"{field}: Nobody with that number is in this circle.",
            field=field,
        )
    if helper and not Role.objects.filter(member=about, role=RoleName.HELPER).exists():
        raise InvalidInput(
            "concern_not_a_helper",
            f"{field}: That person is not one of the circle's helpers.",
            field=field,
        )
    return about


def _circle_task_exists(*, circle: Circle, task_id: int) -> bool:
    """Whether the circle has a request with this id. Requests live in a higher app (matching),
    so the model is read through members' reverse relation, not imported."""
    tasks = Member._meta.get_field("tasks").related_model
    return bool(tasks._default_manager.filter(circle=circle, pk=task_id).exists())


def concern_raise(
    *,
    circle: Circle,
    caller: Caller,
    what_happened: str,
    danger_now: bool,
    about_member_id: int | None = None,
    about_helper_id: int | None = None,
    task_id: int | None = None,
    happened_on: date | None = None,
) -> Concern:
    """Anyone with a record in the circle (a member, a helper, staff for a caller) or a trusted
    person of one of its members raises a safeguarding concern about a member or a helper
    (their member record), perhaps a task. It goes to the top of the coordinators' queue as a
    safeguarding item that says a concern was raised and nothing of what it says."""
    # Someone with a record in the circle, or a trusted person of one of its members.
    standing = caller.member or caller.trusted_for
    if caller.user is None or standing is None or standing.circle_id != circle.pk:
        raise Forbidden("not_in_circle", "Only people in this circle can raise a concern here.")
    what_happened = _words_given(
        what_happened,
        field="what_happened",
        most=CONCERN_MAX,
        missing="Say what happened or what worries you.",
        too_long=f"Write at most {CONCERN_MAX} characters.",
    )
    if happened_on is not None and happened_on > timezone.localdate():
        raise InvalidInput(
            "date_in_future", "happened_on: The date cannot be in the future.", field="happened_on"
        )
    member = _about(circle=circle, member_id=about_member_id, field="about_member_id", helper=False)
    helper = _about(circle=circle, member_id=about_helper_id, field="about_helper_id", helper=True)
    if task_id is not None and not _circle_task_exists(circle=circle, task_id=task_id):
        raise InvalidInput(
            "concern_task_unknown",
            "task_id: No request with that number is in this circle.",
            field="task_id",
        )
    if member is None and helper is None:
        raise InvalidInput(
            "concern_about_nobody",
            "about_member_id: Say who the concern is about.",
            field="about_member_id",
        )
    with transaction.atomic(durable=True):
        concern = Concern.objects.create(
            circle=circle,
            about_member=member,
            about_helper=helper,
            task_id=task_id,
            what_happened=what_happened,
            happened_on=happened_on,
            danger_now=danger_now,
            raised_by=caller.user,
        )
        about = helper or member
        assert about is not None
        item_raise(
            member=about,
            kind=ItemKind.SAFEGUARDING,
            cause=f"{CONCERN_CAUSE}{concern.pk}",
            task_id=task_id,
            note=(
                "A safeguarding concern was raised: only a coordinator can read it."
                + (" The person raising it said someone was in danger." if danger_now else "")
            ),
            audit_data={"concern_id": concern.pk},
        )
        audit_record(
            circle=circle,
            action="concern.raised",
            caller=caller,
            member=about,
            data={"concern_id": concern.pk, "danger_now": danger_now, "task_id": task_id},
        )
    return concern


def concern_note_add(*, concern: Concern, caller: Caller, text: str) -> ConcernNote:
    """A coordinator's note on an open concern. The audit row says a note was added, not what."""
    _concern_coordinator(concern=concern, caller=caller)
    assert caller.user is not None
    text = _words_given(
        text,
        field="text",
        most=CONCERN_NOTE_MAX,
        missing="Write the note.",
        too_long=f"A note is at most {CONCERN_NOTE_MAX} characters.",
    )
    with transaction.atomic():
        locked = Concern.objects.select_for_update().get(pk=concern.pk)
        _concern_open(locked)
        note = ConcernNote.objects.create(concern=locked, author=caller.user, text=text)
        audit_record(
            circle=locked.circle,
            action="concern.note_added",
            caller=caller,
            member=locked.about_helper or locked.about_member,
            data={"concern_id": locked.pk, "note_id": note.pk},
        )
    return note


def concern_referral_record(
    *, concern: Concern, caller: Caller, referred_on: date, reference: str
) -> Concern:
    """The coordinator referred the concern to the local authority's safeguarding team: when,
    and the reference the team gave. Recording it again corrects it (both kept in the audit)."""
    _concern_coordinator(concern=concern, caller=caller)
    reference = _words_given(
        reference,
        field="reference",
        most=100,
        missing="Give the reference the safeguarding team gave.",
        too_long="At most 100 characters.",
    )
    if referred_on > timezone.localdate():
        raise InvalidInput(
            "date_in_future", "referred_on: The date cannot be in the future.", field="referred_on"
        )
    with transaction.atomic(durable=True):
        locked = Concern.objects.select_for_update().get(pk=concern.pk)
        _concern_open(locked)
        locked.referred_on = referred_on
        locked.referral_reference = reference
        locked.save(update_fields=["referred_on", "referral_reference"])
        audit_record(
            circle=locked.circle,
            action="concern.referred",
            caller=caller,
            member=locked.about_helper or locked.about_member,
            data={
                "concern_id": locked.pk,
                "referred_on": referred_on.isoformat(),
                "reference": reference,
            },
        )
    return locked


def concern_close(*, concern: Concern, caller: Caller, outcome: str) -> Concern:
    """A coordinator closes a concern with its outcome; its item leaves the queue with it."""
    _concern_coordinator(concern=concern, caller=caller)
    assert caller.user is not None
    outcome = _words_given(
        outcome,
        field="outcome",
        most=CONCERN_MAX,
        missing="Say how the concern ended.",
        too_long=f"At most {CONCERN_MAX} characters.",
    )
    with transaction.atomic(durable=True):
        closed = Concern.objects.filter(pk=concern.pk, closed_at__isnull=True).update(
            closed_at=timezone.now(), closed_by=caller.user, outcome=outcome
        )
        if not closed:
            raise Conflict("concern_closed", "This concern is closed.")
        about = concern.about_helper or concern.about_member
        assert about is not None
        item_close(
            member=about,
            kind=ItemKind.SAFEGUARDING,
            cause=f"{CONCERN_CAUSE}{concern.pk}",
            caller=caller,
            note="The concern was closed.",
        )
        audit_record(
            circle=concern.circle,
            action="concern.closed",
            caller=caller,
            member=about,
            data={"concern_id": concern.pk},
        )
    concern.refresh_from_db()
    return concern
