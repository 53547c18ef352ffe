"""Working a follow-up: claiming it ("I'll ring them") so two operators never both ring,
noting what happened, and the kinds each desk handles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from attention.models import COORDINATOR_KINDS, OPERATOR_KINDS, Item, ItemKind, Note
from attention.services import item_claim, item_done, item_note_add, item_raise
from circle.errors import Conflict, InvalidInput
from members.models import AuditEvent, Member, RoleName
from members.selectors import Caller, caller_for
from tests.conftest import Personas
from tests.factories import MemberFactory, UserFactory
from tests.tokens.test_concurrency import run_together

pytestmark = pytest.mark.django_db


def as_staff(member: Member) -> Caller:
    return caller_for(user=member.user, circle=member.circle)


def raised(member: Member, kind: str = ItemKind.RENEWAL_FAILED, cause: str = "test:1") -> Item:
    item = item_raise(member=member, kind=kind, cause=cause, note="Card declined.")
    assert item is not None
    return item


def olive(personas: Personas) -> Member:
    """A second operator in Southwark."""
    user = UserFactory(email="olive@example.org", full_name="Olive Other")
    return MemberFactory(circle=personas.southwark, user=user, roles=[RoleName.OPERATOR])


def written() -> dict[str, int]:
    return {"audit": AuditEvent.objects.count(), "notes": Note.objects.count()}


def test_every_kind_belongs_to_exactly_one_desk() -> None:
    assert set(OPERATOR_KINDS) | set(COORDINATOR_KINDS) == set(ItemKind.values)
    assert not set(OPERATOR_KINDS) & set(COORDINATOR_KINDS)
    assert ItemKind.APPROVAL_PENDING in COORDINATOR_KINDS
    assert ItemKind.TASK_UNACCEPTED in OPERATOR_KINDS


def test_claiming_sets_who_has_it_and_is_audited(personas: Personas) -> None:
    item = raised(personas.alice)

    claimed = item_claim(item=item, caller=as_staff(personas.otto))

    assert claimed.claimed_by == personas.otto.user
    assert claimed.claimed_at is not None
    event = AuditEvent.objects.get(action="followup.claimed")
    assert (event.actor, event.member) == (personas.otto.user, personas.alice)
    assert event.data == {"followup_id": item.pk, "kind": "renewal_failed", "taken_over_from": None}


def test_claiming_ones_own_item_again_changes_nothing(personas: Personas) -> None:
    item = item_claim(item=raised(personas.alice), caller=as_staff(personas.otto))
    before, counts = item.claimed_at, written()

    again = item_claim(item=item, caller=as_staff(personas.otto))

    assert again.claimed_at == before
    assert written() == counts


def test_claiming_an_item_someone_else_holds_is_refused_naming_them(personas: Personas) -> None:
    item = item_claim(item=raised(personas.alice), caller=as_staff(personas.otto))
    counts = written()

    with pytest.raises(Conflict) as refused:
        item_claim(item=item, caller=as_staff(personas.cora))

    assert refused.value.code == "already_claimed"
    assert "Otto Operator is already dealing with this" in refused.value.detail
    assert Item.objects.get(pk=item.pk).claimed_by == personas.otto.user
    assert written() == counts


def test_taking_over_names_whose_it_was(personas: Personas) -> None:
    item = item_claim(item=raised(personas.alice), caller=as_staff(personas.otto))

    taken = item_claim(
        item=item, caller=as_staff(personas.cora), take_over_from=personas.otto.user_id
    )

    assert taken.claimed_by == personas.cora.user
    event = AuditEvent.objects.filter(action="followup.claimed").latest("id")
    assert event.data["taken_over_from"] == personas.otto.user_id


def test_taking_over_from_someone_who_no_longer_holds_it_is_refused(personas: Personas) -> None:
    # Otto held it; Cora took it over; Olive's page still said Otto.
    other = olive(personas)
    item = item_claim(item=raised(personas.alice), caller=as_staff(personas.otto))
    item_claim(item=item, caller=as_staff(personas.cora), take_over_from=personas.otto.user_id)

    with pytest.raises(Conflict) as refused:
        item_claim(item=item, caller=as_staff(other), take_over_from=personas.otto.user_id)

    assert "Cora Coordinator is already dealing" in refused.value.detail
    assert Item.objects.get(pk=item.pk).claimed_by == personas.cora.user


def test_a_done_item_cannot_be_claimed_or_noted(personas: Personas) -> None:
    item = raised(personas.alice)
    item_done(item=item, caller=as_staff(personas.otto), note="Paid in cash.")
    counts = written()

    for attempt in (
        lambda: item_claim(item=item, caller=as_staff(personas.cora)),
        lambda: item_note_add(item=item, caller=as_staff(personas.cora), text="Too late"),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "already_done"
    assert written() == counts


def test_notes_keep_who_wrote_them_and_when_in_order(personas: Personas) -> None:
    item = raised(personas.alice)

    first = item_note_add(item=item, caller=as_staff(personas.otto), text="  Rang, no answer. ")
    second = item_note_add(item=item, caller=as_staff(personas.cora), text="Rang again: paid.")

    notes = list(item.notes.all())
    assert notes == [first, second]
    assert [(n.author, n.text) for n in notes] == [
        (personas.otto.user, "Rang, no answer."),
        (personas.cora.user, "Rang again: paid."),
    ]
    assert first.circle == personas.southwark
    events = AuditEvent.objects.filter(action="followup.note_added").order_by("id")
    assert [e.data["note_id"] for e in events] == [first.pk, second.pk]
    # The words stay on the item, not in the audit log.
    assert all("Rang" not in str(e.data) + e.reason for e in events)


@pytest.mark.parametrize(
    ("text", "code"), [("", "required"), ("   ", "required"), ("x" * 1001, "too_long")]
)
def test_a_blank_or_overlong_note_is_refused_and_writes_nothing(
    personas: Personas, text: str, code: str
) -> None:
    item = raised(personas.alice)
    counts = written()

    with pytest.raises(InvalidInput) as refused:
        item_note_add(item=item, caller=as_staff(personas.otto), text=text)

    assert (refused.value.code, refused.value.field) == (code, "text")
    assert written() == counts


def test_the_database_keeps_claim_fields_together(personas: Personas) -> None:
    item = raised(personas.alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(claimed_by=personas.otto.user)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_operators_claiming_at_once_exactly_one_gets_it(personas: Personas) -> None:
    item = raised(personas.alice)
    callers = [as_staff(personas.otto), as_staff(personas.cora), as_staff(olive(personas))]

    def attempt(caller: Caller) -> Any:
        try:
            return item_claim(item=Item.objects.get(pk=item.pk), caller=caller)
        except Conflict as refused:
            return refused

    results = run_together([lambda c=c: attempt(c) for c in callers])

    won = [r for r in results if isinstance(r, Item)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert (len(won), len(lost)) == (1, 2)
    assert {r.code for r in lost} == {"already_claimed"}
    assert Item.objects.get(pk=item.pk).claimed_by == won[0].claimed_by
    assert AuditEvent.objects.filter(action="followup.claimed").count() == 1


def test_the_same_note_sent_twice_is_written_once(personas: Personas) -> None:
    item = raised(personas.alice)
    otto = as_staff(personas.otto)

    first = item_note_add(item=item, caller=otto, text="Rang, no answer.")
    again = item_note_add(item=item, caller=otto, text="Rang, no answer.")
    other = item_note_add(item=item, caller=as_staff(personas.cora), text="Rang, no answer.")

    assert again == first
    assert other != first
    assert Note.objects.count() == 2


def test_the_same_words_later_are_a_new_note(personas: Personas) -> None:
    item = raised(personas.alice)
    otto = as_staff(personas.otto)
    first = item_note_add(item=item, caller=otto, text="Rang, no answer.")

    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        later = item_note_add(item=item, caller=otto, text="Rang, no answer.")

    assert later != first
    assert Note.objects.count() == 2
