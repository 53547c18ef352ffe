"""The operators' follow-ups (/console/{slug}/follow-ups/): the queue's items operators handle,
oldest first, counted by kind; one item's page, where staff claim it, add notes and close it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from attention.models import Item, ItemKind, Note
from attention.services import item_claim, item_done, item_note_add, item_raise
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

QUEUE = "/console/southwark/follow-ups/"


def item_url(item: Item, action: str = "") -> str:
    return f"{QUEUE}{item.pk}/" + (f"{action}/" if action else "")


def raise_at(
    member: Member, kind: str, *, days_ago: float, cause: str, note: str = "", **extra: Any
) -> Item:
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        item = item_raise(member=member, kind=kind, cause=cause, note=note, **extra)
    assert item is not None
    return item


@pytest.fixture
def queue(personas: Personas) -> dict[str, Item]:
    """Southwark's queue: Bob's failed renewal (5 days), Alice's text (2 days), Bob's grace
    (1 hour), and a coordinators' approval; Suffolk has Sam's renewal reminder."""
    return {
        "bob_failed": raise_at(
            personas.bob, ItemKind.RENEWAL_FAILED, days_ago=5, cause="p:1", note="Card declined."
        ),
        "alice_sms": raise_at(
            personas.alice,
            ItemKind.SMS_UNDELIVERED,
            days_ago=2,
            cause="sms:1",
            note="A text to Alice was not delivered.",
        ),
        "bob_grace": raise_at(personas.bob, ItemKind.GRACE, days_ago=1 / 24, cause="p:2"),
        "approval": raise_at(personas.alice, ItemKind.APPROVAL_PENDING, days_ago=9, cause="a:1"),
        "sam": raise_at(personas.sam, ItemKind.RENEWAL_REMINDER, days_ago=3, cause="p:3"),
    }


@pytest.fixture
def otto(client: Client, personas: Personas) -> Client:
    client.force_login(personas.otto.user)
    return client


def written() -> dict[str, int]:
    return {
        "audit": AuditEvent.objects.count(),
        "notes": Note.objects.count(),
        "open": Item.objects.filter(done_at__isnull=True).count(),
        "claimed": Item.objects.filter(claimed_by__isnull=False).count(),
    }


# --- The queue --------------------------------------------------------------------------------


def test_the_queue_lists_operators_items_oldest_first_with_counts(
    otto: Client, queue: dict[str, Item]
) -> None:
    response = otto.get(QUEUE)

    assert response.status_code == 200
    words = text_of(response)
    assert "Follow-ups" in words
    assert "3 people to ring or look into, the longest waiting first." in words
    assert "All kinds (3)" in words
    assert "Card renewal failed (1)" in words
    assert "Text message not delivered (1)" in words
    assert "Membership ended, not yet renewed (1)" in words
    assert "Nobody took their request (0)" in words
    # Oldest first: Bob's failed renewal, Alice's text, Bob's grace.
    assert (
        words.index("Card renewal failed for Bob Baker")
        < words.index("Text message not delivered for Alice Archer")
        < words.index("Membership ended, not yet renewed for Bob Baker")
    )
    for waited in ("5 days ago", "2 days ago", "1 hour ago"):
        assert waited in words
    assert "Card declined." in words
    assert "Nobody yet" in words
    # Coordinators' items and other circles' are not here.
    assert "second coordinator" not in words
    assert "Sam Smith" not in words
    page = response.content.decode()
    bob = queue["bob_failed"]
    assert f'href="{item_url(bob)}"' in page
    assert f'href="/console/southwark/members/{bob.member_id}/"' in page
    assert 'href="tel:+447700900002"' in page
    assert "07700 900002" in words


def test_the_queue_filters_by_kind(otto: Client, queue: dict[str, Item]) -> None:
    words = text_of(otto.get(QUEUE, {"kind": "sms_undelivered"}))

    assert "Text message not delivered: 1 waiting" in words
    assert "Alice Archer" in words
    assert "Bob Baker" not in words
    # The counts still count every kind, and lead back to all.
    assert "All kinds (3)" in words
    assert "Card renewal failed (1)" in words


def test_an_unknown_or_coordinators_kind_shows_every_operators_item(
    otto: Client, queue: dict[str, Item]
) -> None:
    for kind in ("approval_pending", "nonsense"):
        words = text_of(otto.get(QUEUE, {"kind": kind}))
        assert "3 waiting" in words
        assert "second coordinator" not in words


def test_an_empty_queue_says_so(otto: Client, personas: Personas) -> None:
    words = text_of(otto.get(QUEUE))
    assert "Nothing is waiting." in words
    assert "All kinds (0)" in words


def test_the_queue_names_the_request_of_a_task_nobody_took(
    otto: Client, personas: Personas
) -> None:
    start = timezone.now() + timedelta(days=2)
    task = make_task(member=personas.alice, start=start, hours=2)
    item_raise(
        member=personas.alice,
        kind=ItemKind.TASK_UNACCEPTED,
        cause=f"task:{task.pk}",
        task_id=task.pk,
        note="No helper took it.",
    )

    words = text_of(otto.get(QUEUE))

    assert f"Request: {task.title}" in words
    assert "Nobody took their request (1)" in words


def test_who_has_each_item_shows(otto: Client, personas: Personas, queue: dict[str, Item]) -> None:
    item_claim(
        item=queue["bob_failed"],
        caller=caller_for(user=personas.otto.user, circle=personas.southwark),
    )
    item_claim(
        item=queue["alice_sms"],
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
    )

    words = text_of(otto.get(QUEUE))

    assert "Card renewal failed for Bob Baker" in words
    assert words.count("Nobody yet") == 1
    assert "Cora Coordinator" in words
    assert " You " in f" {words} "


def test_the_queue_costs_the_same_queries_however_long(
    otto: Client, personas: Personas, django_assert_max_num_queries: Any
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            task = make_task(member=personas.alice)
            item = item_raise(
                member=personas.alice,
                kind=ItemKind.TASK_UNACCEPTED,
                cause=f"task:{task.pk}",
                task_id=task.pk,
            )
            assert item is not None
            item_claim(
                item=item, caller=caller_for(user=personas.otto.user, circle=personas.southwark)
            )
            raise_at(personas.bob, ItemKind.GRACE, days_ago=i, cause=f"grace:{task.pk}")

    add(2)
    with django_assert_max_num_queries(10) as few:
        otto.get(QUEUE)
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = otto.get(QUEUE)
    assert "20 people" in text_of(response)


# --- Who may see it ---------------------------------------------------------------------------


def test_a_coordinator_sees_the_queue_too(client: Client, personas: Personas, queue: Any) -> None:
    client.force_login(personas.cora.user)
    assert client.get(QUEUE).status_code == 200
    assert client.get(item_url(queue["bob_failed"])).status_code == 200


@pytest.mark.parametrize("who", ["alice", "hana"])
def test_members_and_helpers_are_told_the_page_is_for_staff(
    client: Client, personas: Personas, queue: dict[str, Item], who: str
) -> None:
    client.force_login(getattr(personas, who).user)
    item = queue["bob_failed"]
    counts = written()

    for response in (
        client.get(QUEUE),
        client.get(item_url(item)),
        client.post(item_url(item, "claim")),
        client.post(item_url(item, "notes"), {"text": "Hello"}),
        client.post(item_url(item, "close"), {"outcome": "Done"}),
    ):
        assert response.status_code == 403
        assert "Card declined." not in text_of(response)
    assert written() == counts


def test_another_circles_staff_find_nothing(
    client: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    client.force_login(personas.clara.user)
    item = queue["bob_failed"]
    counts = written()

    assert client.get(QUEUE).status_code == 404
    for response in (
        client.get(item_url(item)),
        client.post(item_url(item, "claim")),
        client.post(item_url(item, "notes"), {"text": "Hello"}),
        client.post(item_url(item, "close"), {"outcome": "Done"}),
    ):
        assert response.status_code == 404
    assert written() == counts


def test_suffolks_item_is_not_found_in_southwarks_console(
    otto: Client, queue: dict[str, Item]
) -> None:
    assert otto.get(item_url(queue["sam"])).status_code == 404
    assert otto.post(item_url(queue["sam"], "close"), {"outcome": "x"}).status_code == 404
    assert Item.objects.get(pk=queue["sam"].pk).done_at is None


def test_a_coordinators_item_is_not_on_the_operators_desk(
    otto: Client, queue: dict[str, Item]
) -> None:
    assert otto.get(item_url(queue["approval"])).status_code == 404
    assert otto.post(item_url(queue["approval"], "claim")).status_code == 404
    assert Item.objects.get(pk=queue["approval"].pk).claimed_by is None


def test_signed_out_people_are_sent_to_sign_in(client: Client, queue: dict[str, Item]) -> None:
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_the_actions_take_only_post(otto: Client, queue: dict[str, Item]) -> None:
    item = queue["bob_failed"]
    for action in ("claim", "notes", "close"):
        assert otto.get(item_url(item, action)).status_code == 405
    assert otto.post(QUEUE).status_code == 405


# --- One item ---------------------------------------------------------------------------------


def test_an_items_page_says_who_why_since_when_and_who_has_it(
    otto: Client, queue: dict[str, Item]
) -> None:
    item = queue["bob_failed"]

    response = otto.get(item_url(item))

    words = text_of(response)
    assert "Card renewal failed" in words
    assert "Bob Baker" in words
    assert "Ring 07700 900002" in words
    assert "Open Bob Baker's card" in words
    assert "Why Card declined." in words
    assert "5 days ago" in words
    assert "Who has it Nobody yet" in words
    assert "I'll ring them" in words
    assert "No notes yet." in words
    page = response.content.decode()
    assert f'href="/console/southwark/members/{item.member_id}/"' in page
    assert 'href="tel:+447700900002"' in page


def test_claiming_makes_it_yours(otto: Client, personas: Personas, queue: dict[str, Item]) -> None:
    item = queue["bob_failed"]

    response = otto.post(item_url(item, "claim"), follow=True)

    assert response.redirect_chain == [(item_url(item), 302)]
    words = text_of(response)
    assert "You have this one now. Ring Bob Baker on 07700 900002." in words
    assert "Who has it You, since" in words
    assert "This one is yours" in words
    assert Item.objects.get(pk=item.pk).claimed_by == personas.otto.user


def test_claiming_one_someone_else_holds_asks_first(
    client: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    item = queue["bob_failed"]
    item_claim(item=item, caller=caller_for(user=personas.otto.user, circle=personas.southwark))
    client.force_login(personas.cora.user)
    page = text_of(client.get(item_url(item)))
    assert "Otto Operator is dealing with this. Ask them before you take it over." in page
    assert "Take it over from Otto Operator" in page
    counts = written()

    # Cora's page was open before Otto claimed it: her plain claim is refused, saying why.
    refused = client.post(item_url(item, "claim"))

    assert refused.status_code == 200
    words = text_of(refused)
    assert words.startswith("Error:")
    assert "There is a problem" in words
    assert "Otto Operator is already dealing with this follow-up." in words
    assert written() == counts

    # Having asked Otto, she takes it over.
    taken = client.post(item_url(item, "claim"), {"take_over_from": personas.otto.user_id})
    assert taken.status_code == 302
    assert Item.objects.get(pk=item.pk).claimed_by == personas.cora.user


def test_a_note_is_added_with_who_and_when(
    otto: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    item = queue["bob_failed"]

    response = otto.post(item_url(item, "notes"), {"text": "Rang at 10, no answer."}, follow=True)

    assert response.redirect_chain == [(item_url(item) + "#notes", 302)]
    words = text_of(response)
    assert "Your note is added." in words
    assert "Otto Operator," in words
    assert "Rang at 10, no answer." in words
    note = Note.objects.get()
    assert (note.item, note.author, note.text) == (
        item,
        personas.otto.user,
        "Rang at 10, no answer.",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write the note."),
        ("   ", "Write the note."),
        ("x" * 1001, "Use 1,000 characters or fewer."),
    ],
)
def test_a_blank_or_long_note_is_refused_and_nothing_written(
    otto: Client, queue: dict[str, Item], text: str, message: str
) -> None:
    counts = written()

    response = otto.post(item_url(queue["bob_failed"], "notes"), {"text": text})

    assert response.status_code == 200
    words = text_of(response)
    assert words.startswith("Error:")
    assert f"There is a problem {message}" in words
    assert written() == counts


def test_closing_with_an_outcome_marks_it_done_and_the_counts_drop(
    otto: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    item = queue["bob_failed"]

    response = otto.post(item_url(item, "close"), {"outcome": "Paid £10 in cash."}, follow=True)

    assert response.redirect_chain == [(QUEUE, 302)]
    words = text_of(response)
    assert "Closed: Card renewal failed for Bob Baker." in words
    assert "All kinds (2)" in words
    assert "Card renewal failed (0)" in words
    saved = Item.objects.get(pk=item.pk)
    assert (saved.done_by, saved.done_note) == (personas.otto.user, "Paid £10 in cash.")
    assert saved.done_at is not None
    event = AuditEvent.objects.get(action="followup.done")
    assert (event.actor, event.member, event.reason) == (
        personas.otto.user,
        personas.bob,
        "Paid £10 in cash.",
    )
    # Its page now says how it ended, and offers nothing more to do.
    page = text_of(otto.get(item_url(item)))
    assert "Outcome Paid £10 in cash." in page
    assert "by Otto Operator" in page
    for action in ("I'll ring them", "Close it", "Add note"):
        assert action not in page


def test_closing_needs_an_outcome_and_writes_nothing_without_one(
    otto: Client, queue: dict[str, Item]
) -> None:
    counts = written()

    for outcome in ("", "   ", "x" * 501):
        response = otto.post(item_url(queue["bob_failed"], "close"), {"outcome": outcome})
        assert response.status_code == 200
        words = text_of(response)
        assert "There is a problem" in words
        assert ("Say what the outcome was." in words) or ("Use 500 characters or fewer." in words)
    assert written() == counts


def test_closing_twice_says_plainly_it_was_already_closed(
    client: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    item = queue["bob_failed"]
    item_done(
        item=item,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        note="Rang.",
    )
    client.force_login(personas.otto.user)
    counts = written()

    for action, data in (("close", {"outcome": "Paid."}), ("notes", {"text": "Hi"}), ("claim", {})):
        response = client.post(item_url(item, action), data)
        assert response.status_code == 200
        words = text_of(response)
        assert (
            "This follow-up has already been closed, so there is nothing more to do on it." in words
        )
        assert "by Cora Coordinator" in words
    assert written() == counts
    assert Item.objects.get(pk=item.pk).done_note == "Rang."


def test_notes_show_oldest_first(otto: Client, personas: Personas, queue: dict[str, Item]) -> None:
    item = queue["alice_sms"]
    southwark = personas.southwark
    item_note_add(
        item=item, caller=caller_for(user=personas.cora.user, circle=southwark), text="First"
    )
    item_note_add(
        item=item, caller=caller_for(user=personas.otto.user, circle=southwark), text="Second"
    )

    words = text_of(otto.get(item_url(item)))

    assert words.index("Cora Coordinator, ") < words.index("First") < words.index("Otto Operator, ")
    assert words.index("Otto Operator, ") < words.index("Second")


def test_a_form_sent_twice_writes_once_and_says_done_both_times(
    otto: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    item = queue["bob_failed"]

    for _ in range(2):
        noted = otto.post(item_url(item, "notes"), {"text": "Rang, no answer."}, follow=True)
        assert "Your note is added." in text_of(noted)
    for _ in range(2):
        closed = otto.post(item_url(item, "close"), {"outcome": "Paid cash."}, follow=True)
        assert closed.redirect_chain == [(QUEUE, 302)]
        assert "Closed: Card renewal failed for Bob Baker." in text_of(closed)

    assert Note.objects.filter(item=item).count() == 1
    assert AuditEvent.objects.filter(action="followup.note_added").count() == 1
    assert AuditEvent.objects.filter(action="followup.done").count() == 1
