"""The coordinators' queue (/coordinator/{slug}/): the items coordinators handle, safeguarding
first then oldest first, counted by kind, filtered by kind and by who has it; one item's page,
where a coordinator adds notes, gives it to someone on the staff or takes it, and resolves it
with the outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from attention.models import Item, ItemKind, Note
from attention.services import item_assign, item_raise
from matching.models import Task
from members.models import AuditEvent, Member, User
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

QUEUE = "/coordinator/southwark/"


def item_url(item: Item, action: str = "") -> str:
    return f"{QUEUE}items/{item.pk}/" + (f"{action}/" if action else "")


def raise_at(
    member: Member, kind: str, *, days_ago: float, cause: str, note: str = "", **extra: Any
) -> Item:
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        item = item_raise(member=member, kind=kind, cause=cause, note=note, **extra)
    assert item is not None
    return item


@pytest.fixture
def queue(personas: Personas) -> dict[str, Item]:
    """Southwark's desk: a low rating about Hana (6 days), Bob's lapsed tokens (3 days), a
    safeguarding concern about Alice (1 hour, so newest, yet first), and an operator's renewal
    (not the desk's); Suffolk has Sam's DBS check due."""
    task = make_task(member=personas.alice)
    Task.objects.filter(pk=task.pk).update(title="Shopping at Lidl")
    return {
        "rating": raise_at(
            personas.hana,
            ItemKind.LOW_RATING,
            days_ago=6,
            cause="feedback:1",
            task_id=task.pk,
            note="Alice rated it 1 out of 5.",
        ),
        "tokens": raise_at(
            personas.bob, ItemKind.LAPSED_TOKENS, days_ago=3, cause="p:9", note="90 minutes left."
        ),
        "safe": raise_at(
            personas.alice, ItemKind.SAFEGUARDING, days_ago=1 / 24, cause="s:1", note="Bruises."
        ),
        "renewal": raise_at(personas.bob, ItemKind.RENEWAL_FAILED, days_ago=9, cause="p:1"),
        "sam": raise_at(personas.sam, ItemKind.CHECKS_DUE, days_ago=2, cause="vetting_check:1"),
    }


@pytest.fixture
def cora(client: Client, personas: Personas) -> Client:
    client.force_login(personas.cora.user)
    return client


def user_of(member: Member) -> User:
    assert member.user is not None
    return member.user


def written() -> dict[str, int]:
    return {
        "audit": AuditEvent.objects.count(),
        "notes": Note.objects.count(),
        "open": Item.objects.filter(done_at__isnull=True).count(),
        "claimed": Item.objects.filter(claimed_by__isnull=False).count(),
    }


def order_of(text: str, *needles: str) -> list[int]:
    return [text.index(needle) for needle in needles]


# --- The queue --------------------------------------------------------------------------------


def test_the_queue_lists_safeguarding_first_then_oldest_with_counts(
    cora: Client, queue: dict[str, Item]
) -> None:
    response = cora.get(QUEUE)
    assert response.status_code == 200
    text = text_of(response)
    assert "3 things wait for a coordinator" in text
    assert "Safeguarding concern (1)" in text
    assert "Low rating (1 or 2) (1)" in text
    assert "Lapsed with tokens left (1)" in text
    assert "Request soon, no helper yet (0)" in text
    # Newest, yet first; then the oldest first.
    shown = order_of(text, "Bruises.", "Alice rated it 1", "90 minutes left.")
    assert shown == sorted(shown)
    assert "Request: Shopping at Lidl" in text
    # The operators' renewal is theirs, linked; Suffolk's item is not here.
    assert "Card renewal failed" not in text
    assert "1 follow-up waits for the operators" in text
    assert "DBS" not in text.split("Waiting, by kind")[1].split("Who has it")[1]
    page = response.content.decode()
    assert f'href="{item_url(queue["safe"])}"' in page
    assert f'href="/console/southwark/members/{queue["tokens"].member_id}/"' in page


def test_the_queue_filters_by_kind(cora: Client, queue: dict[str, Item]) -> None:
    text = text_of(cora.get(QUEUE, {"kind": ItemKind.LOW_RATING}))
    assert "Alice rated it 1" in text
    assert "Bruises." not in text
    assert "90 minutes left." not in text
    assert "Low rating (1 or 2), anyone's: 1 waiting" in text
    # A kind that is not the desk's is ignored: the whole queue.
    text = text_of(cora.get(QUEUE, {"kind": ItemKind.RENEWAL_FAILED}))
    assert "Bruises." in text
    assert "90 minutes left." in text


def test_the_queue_filters_by_who_has_it(
    cora: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    item_assign(
        item=queue["tokens"],
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        to_user_id=user_of(personas.cora).pk,
    )
    item_assign(
        item=queue["rating"],
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        to_user_id=user_of(personas.otto).pk,
    )
    mine = text_of(cora.get(QUEUE, {"who": "mine"}))
    assert "90 minutes left." in mine
    assert "Bruises." not in mine
    assert "Alice rated it 1" not in mine
    assert "Mine (1)" in mine
    assert "Nobody's yet (1)" in mine
    assert "Anyone's (3)" in mine
    nobody = text_of(cora.get(QUEUE, {"who": "unassigned"}))
    assert "Bruises." in nobody
    assert "90 minutes left." not in nobody
    assert "Alice rated it 1" not in nobody
    everyone = text_of(cora.get(QUEUE))
    assert "Otto Operator" in everyone or user_of(personas.otto).full_name in everyone
    # The kind filter keeps the holder filter in its links, and the other way round.
    page = cora.get(QUEUE, {"who": "mine"}).content.decode()
    assert f'href="?kind={ItemKind.LOW_RATING}&amp;who=mine"' in page
    page = cora.get(QUEUE, {"kind": ItemKind.LOW_RATING}).content.decode()
    assert f'href="?kind={ItemKind.LOW_RATING}&amp;who=unassigned"' in page


def test_an_empty_queue_says_so(cora: Client, personas: Personas) -> None:
    text = text_of(cora.get(QUEUE))
    assert "Nothing is waiting for a coordinator. Well done." in text


def test_the_queue_costs_the_same_queries_however_long(
    cora: Client, personas: Personas, django_assert_num_queries: Any
) -> None:
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            task = make_task(member=personas.alice)
            item = item_raise(
                member=personas.alice,
                kind=ItemKind.TASK_NO_HELPER,
                cause=f"task:{task.pk}",
                task_id=task.pk,
            )
            assert item is not None
            item_assign(
                item=item,
                caller=caller_for(user=personas.cora.user, circle=personas.southwark),
                to_user_id=user_of(personas.otto).pk,
            )
            raise_at(personas.bob, ItemKind.LOW_RATING, days_ago=i, cause=f"feedback:{i}")

    add(2, 0)
    with django_assert_num_queries(8) as few:
        cora.get(QUEUE)
    add(8, 2)
    with django_assert_num_queries(len(few.captured_queries)):
        response = cora.get(QUEUE)
    assert "20 things wait" in text_of(response)


def test_an_operator_may_not_see_the_desk(client: Client, personas: Personas, queue: Any) -> None:
    client.force_login(personas.otto.user)
    assert client.get(QUEUE).status_code == 403
    assert client.get(item_url(queue["safe"])).status_code == 403


def test_another_circles_item_and_an_operators_kind_are_not_found(
    cora: Client, queue: dict[str, Item]
) -> None:
    assert cora.get(item_url(queue["sam"])).status_code == 404
    assert cora.get(item_url(queue["renewal"])).status_code == 404
    assert cora.post(item_url(queue["sam"], "resolve"), {"outcome": "x"}).status_code == 404
    assert not Item.objects.filter(done_at__isnull=False).exists()


# --- An item's page ---------------------------------------------------------------------------


def test_an_items_page_costs_the_same_queries_however_many_notes(
    cora: Client, personas: Personas, queue: dict[str, Item], django_assert_num_queries: Any
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            Note.objects.create(
                circle=personas.southwark,
                item=queue["safe"],
                author=personas.cora.user,
                text=f"n{i}",
            )

    add(1)
    # No task to read for this one (the rating's page reads its task: one more).
    with django_assert_num_queries(6) as few:
        cora.get(item_url(queue["safe"]))
    add(9)
    with django_assert_num_queries(len(few.captured_queries)):
        response = cora.get(item_url(queue["safe"]))
    assert "n8" in text_of(response)


def test_an_items_page_shows_what_and_who_it_is_about(
    cora: Client, personas: Personas, queue: dict[str, Item], django_assert_num_queries: Any
) -> None:
    # A rating is about a helper: their record's id is read too (one more than the task).
    with django_assert_num_queries(8):
        response = cora.get(item_url(queue["rating"]))
    assert response.status_code == 200
    text = text_of(response)
    assert "Low rating (1 or 2)" in text
    assert "Alice rated it 1 out of 5." in text
    assert "Shopping at Lidl" in text
    assert "Nobody yet" in text
    assert "No notes yet." in text
    page = response.content.decode()
    assert f'href="/console/southwark/members/{queue["rating"].member_id}/"' in page
    helper = personas.hana_helper.pk
    assert f'href="/coordinator/southwark/helpers/{helper}/"' in page
    assert f'href="/coordinator/southwark/feedback/?helper={helper}"' in page
    assert "I&#x27;ll take it" in page or "I'll take it" in page


def test_a_note_is_added_and_shown(
    cora: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    response = cora.post(item_url(queue["safe"], "notes"), {"text": "Rang her daughter."})
    assert response.status_code == 302
    assert response["Location"] == item_url(queue["safe"]) + "#notes"
    text = text_of(cora.get(item_url(queue["safe"])))
    assert "Your note is added." in text
    assert "Rang her daughter." in text
    assert AuditEvent.objects.filter(action="followup.note_added").count() == 1


def test_a_blank_note_is_refused_and_nothing_written(cora: Client, queue: dict[str, Item]) -> None:
    before = written()
    response = cora.post(item_url(queue["safe"], "notes"), {"text": "  "})
    assert response.status_code == 200
    assert "Write the note." in text_of(response)
    assert text_of(response).startswith("Error:") or "<title>Error:" in response.content.decode()
    assert written() == before


def test_a_coordinator_takes_an_item(
    cora: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    response = cora.post(item_url(queue["safe"], "assign"), {"take": "1"})
    assert response.status_code == 302
    queue["safe"].refresh_from_db()
    assert queue["safe"].claimed_by_id == user_of(personas.cora).pk
    assert queue["safe"].assigned_by_id is None
    text = text_of(cora.get(item_url(queue["safe"])))
    assert "You have this one now." in text
    assert "Who has it You" in text


def test_a_coordinator_gives_an_item_to_an_operator(
    cora: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    otto = user_of(personas.otto)
    response = cora.post(item_url(queue["tokens"], "assign"), {"assignee": otto.pk})
    assert response.status_code == 302
    queue["tokens"].refresh_from_db()
    assert queue["tokens"].claimed_by_id == user_of(personas.otto).pk
    assert queue["tokens"].assigned_by_id == user_of(personas.cora).pk
    text = text_of(cora.get(item_url(queue["tokens"])))
    name = user_of(personas.otto).full_name
    assert f"Given to {name}." in text
    assert f"given by {user_of(personas.cora).full_name}" in text
    event = AuditEvent.objects.get(action="followup.assigned")
    assert event.data["to_user_id"] == user_of(personas.otto).pk


def test_giving_an_item_to_someone_not_on_the_staff_is_refused(
    cora: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    before = written()
    for nobody in (user_of(personas.alice).pk, user_of(personas.clara).pk, ""):
        response = cora.post(item_url(queue["tokens"], "assign"), {"assignee": nobody})
        assert response.status_code == 200
        text = text_of(response)
        assert (
            "Choose someone on the circle's staff." in text or "Choose who to give it to." in text
        )
    assert written() == before


def test_resolving_needs_the_outcome_in_words(cora: Client, queue: dict[str, Item]) -> None:
    before = written()
    response = cora.post(item_url(queue["rating"], "resolve"), {"outcome": " "})
    assert response.status_code == 200
    assert "Say what the outcome was." in text_of(response)
    assert written() == before


def test_resolving_closes_it_with_the_outcome(
    cora: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    outcome = "Spoke to Hana, who apologised; Alice is happy."
    response = cora.post(item_url(queue["rating"], "resolve"), {"outcome": outcome})
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    item = Item.objects.get(pk=queue["rating"].pk)
    assert item.done_at is not None
    assert item.done_by_id == user_of(personas.cora).pk
    assert item.done_note == outcome
    text = text_of(cora.get(QUEUE))
    assert "Resolved: Low rating (1 or 2) for Hana" in text
    assert "Alice rated it 1" not in text
    # Its page still reads, with the outcome, and offers nothing more to do.
    page = text_of(cora.get(item_url(queue["rating"])))
    assert outcome in page
    assert "Resolve it" not in page
    # The same form sent twice is answered as the first; a different outcome is refused.
    again = cora.post(item_url(queue["rating"], "resolve"), {"outcome": outcome})
    assert again.status_code == 302
    other = cora.post(item_url(queue["rating"], "resolve"), {"outcome": "Something else"})
    assert other.status_code == 200
    assert "has already been closed" in text_of(other)


def test_a_note_or_assignment_on_a_resolved_item_is_refused(
    cora: Client, personas: Personas, queue: dict[str, Item]
) -> None:
    cora.post(item_url(queue["rating"], "resolve"), {"outcome": "Sorted."})
    before = written()
    response = cora.post(item_url(queue["rating"], "assign"), {"take": "1"})
    assert response.status_code == 200
    assert "has already been closed" in text_of(response)
    response = cora.post(item_url(queue["rating"], "notes"), {"text": "Late note"})
    assert response.status_code == 200
    assert "has already been closed" in text_of(response)
    assert written() == before
