"""A task's whole life through the API, with the ledger checked after every step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from helpers.models import HelperKind
from matching.models import Feedback, Task
from members.models import AuditEvent
from tests.conftest import Personas
from tests.matching.conftest import (
    book,
    new_helper,
    row_counts,
    task_url,
    tokens_of,
)
from tokens.models import Account, AccountKind

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]


def test_book_accept_complete_confirm_moves_the_tokens_once(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    assert tokens_of(alice, world.alice) == {"balance": 300, "held": 0, "available": 300}

    task = book(alice, task_body())
    # 90 minutes estimated, held rounded up to the circle's 30-minute increment: 90.
    assert task["status"] == "open"
    assert task["held"] == {"minutes": 90, "tokens": "1.50"}
    assert task["postcode_district"] == "SE1"
    assert tokens_of(alice, world.alice) == {"balance": 300, "held": 90, "available": 210}

    accepted = hana.post(task_url(task["id"], "accept"))
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["helper"]["helper_id"] == world.hana_helper.pk
    assert tokens_of(alice, world.alice) == {"balance": 300, "held": 90, "available": 210}

    done = hana.post(task_url(task["id"], "complete"), {"minutes": 70}, format="json")
    assert done.status_code == 200, done.json()
    billing = done.json()["billing"]
    # 70 minutes reported, billed 90 (rounded up to the next 30).
    assert billing["reported"]["minutes"] == 70
    assert billing["billed"]["minutes"] == 90
    assert billing["settled"] is None
    assert tokens_of(alice, world.alice) == {"balance": 300, "held": 90, "available": 210}

    confirmed = alice.post(
        task_url(task["id"], "confirm"),
        {"feedback": {"rating": 5, "comment": "Lovely job"}},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.json()
    body = confirmed.json()
    assert body["status"] == "settled"
    assert body["billing"]["settled"]["minutes"] == 90
    assert body["billing"]["unpaid"]["minutes"] == 0
    assert body["billing"]["note"] == ""
    assert tokens_of(alice, world.alice) == {"balance": 210, "held": 0, "available": 210}
    # The volunteer earned the 90 minutes.
    assert tokens_of(hana, world.hana) == {"balance": 90, "held": 0, "available": 90}
    # The statements name the task in words a member can read.
    hana_lines = hana.get(f"/api/v1/members/{world.hana.pk}/statement/").json()["results"]
    alice_lines = alice.get(f"/api/v1/members/{world.alice.pk}/statement/").json()["results"]
    assert hana_lines[0]["description"].startswith("Paid for 'Trim the hedge' on ")
    assert hana_lines[0]["minutes"] == 90
    assert alice_lines[0]["description"].startswith("Held for 'Trim the hedge' on ")
    feedback = Feedback.objects.get(task_id=task["id"])
    assert (feedback.rating, feedback.comment, feedback.helper_id) == (
        5,
        "Lovely job",
        world.hana_helper.pk,
    )
    actions = list(
        AuditEvent.objects.filter(data__task_id=task["id"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["task.booked", "task.accepted", "task.completed", "task.settled"]


def test_every_step_repeated_answers_the_same_and_moves_nothing(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    first = alice.post("/api/v1/tasks/", task_body(idempotency_key="hedge-1"), format="json")
    assert first.status_code == 201
    before = row_counts()
    again = alice.post("/api/v1/tasks/", task_body(idempotency_key="hedge-1"), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert row_counts() == before
    task_id = first.json()["id"]

    steps: list[tuple[Any, str, dict[str, Any]]] = [
        (hana, "accept", {}),
        (hana, "complete", {"minutes": 60}),
        (alice, "confirm", {"feedback": {"rating": 4}}),
    ]
    for client, action, body in steps:
        once = client.post(task_url(task_id, action), body, format="json")
        assert once.status_code == 200, once.json()
        counts = row_counts()
        ledger = tokens_of(alice, world.alice)
        twice = client.post(task_url(task_id, action), body, format="json")
        assert twice.status_code == 200, twice.json()
        assert twice.json() == once.json()
        assert row_counts() == counts
        assert tokens_of(alice, world.alice) == ledger
    assert tokens_of(alice, world.alice) == {"balance": 240, "held": 0, "available": 240}


def test_paid_helper_minutes_go_to_paid_help_and_the_rest_back(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    tom = new_helper(world, "Tom", kind=HelperKind.PAID)
    alice, tom_client = client_for(world.alice), client_for(tom.member)
    task = book(alice, task_body(estimated_minutes=120))
    assert tom_client.post(task_url(task["id"], "accept")).status_code == 200
    tom_client.post(task_url(task["id"], "complete"), {"minutes": 30}, format="json")
    assert tokens_of(alice, world.alice)["held"] == 120

    response = client_for(world.otto).post(task_url(task["id"], "confirm"), {}, format="json")

    assert response.status_code == 200, response.json()
    assert tokens_of(alice, world.alice) == {"balance": 270, "held": 0, "available": 270}
    paid_help = Account.objects.get(circle=world.southwark, kind=AccountKind.PAID_HELP)
    assert paid_help.balance == 30
    assert tokens_of(tom_client, tom.member)["balance"] == 0


def test_overrun_takes_what_the_member_can_pay_and_says_what_is_unpaid(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    bob, hana = client_for(world.bob), client_for(world.hana)
    # Bob has 120 minutes: 60 held by this task, 60 left in his wallet.
    task = book(bob, task_body(estimated_minutes=60))
    assert tokens_of(bob, world.bob) == {"balance": 120, "held": 60, "available": 60}
    hana.post(task_url(task["id"], "accept"))
    # Four hours' work: billed 240, 180 more than held and 120 more than Bob has.
    hana.post(task_url(task["id"], "complete"), {"minutes": 240}, format="json")

    response = bob.post(task_url(task["id"], "confirm"), {}, format="json")

    assert response.status_code == 200, response.json()
    billing = response.json()["billing"]
    assert billing["billed"]["minutes"] == 240
    assert billing["settled"]["minutes"] == 120
    assert billing["unpaid"] == {"minutes": 120, "tokens": "2.00"}
    assert "120 are unpaid" in billing["note"]
    assert tokens_of(bob, world.bob) == {"balance": 0, "held": 0, "available": 0}
    assert tokens_of(hana, world.hana)["balance"] == 120
    event = AuditEvent.objects.get(action="task.settled", data__task_id=task["id"])
    assert event.data["minutes_unpaid"] == 120


def test_overrun_within_the_wallet_is_paid_in_full(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body(estimated_minutes=60))
    hana.post(task_url(task["id"], "accept"))
    hana.post(task_url(task["id"], "complete"), {"minutes": 100}, format="json")

    body = alice.post(task_url(task["id"], "confirm"), {}, format="json").json()

    assert body["billing"]["billed"]["minutes"] == 120
    assert body["billing"]["unpaid"]["minutes"] == 0
    assert tokens_of(alice, world.alice) == {"balance": 180, "held": 0, "available": 180}
    assert tokens_of(hana, world.hana)["balance"] == 120


def test_member_cancels_an_open_task_and_the_hold_comes_back(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice = client_for(world.alice)
    task = book(alice, task_body())

    missing = alice.post(task_url(task["id"], "cancel"), {"reason": " "}, format="json")
    assert missing.status_code == 400
    response = alice.post(task_url(task["id"], "cancel"), {"reason": "Rain"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Rain"
    assert tokens_of(alice, world.alice) == {"balance": 300, "held": 0, "available": 300}
    counts = row_counts()
    again = alice.post(task_url(task["id"], "cancel"), {"reason": "Rain"}, format="json")
    assert again.status_code == 200
    assert row_counts() == counts


def test_staff_cancel_an_accepted_task(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice = client_for(world.alice)
    task = book(alice, task_body())
    client_for(world.hana).post(task_url(task["id"], "accept"))

    response = client_for(world.otto).post(
        task_url(task["id"], "cancel"),
        {"reason": "Alice phoned: in hospital", "call_reference": "CALL-31"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["helper"] is None
    assert tokens_of(alice, world.alice)["held"] == 0
    event = AuditEvent.objects.get(action="task.cancelled", member=world.alice)
    assert (event.actor, event.call_reference) == (world.otto.user, "CALL-31")


def test_staff_confirm_for_a_member_who_phoned_with_the_calls_reference(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())
    hana.post(task_url(task["id"], "accept"))
    hana.post(task_url(task["id"], "complete"), {"minutes": 60}, format="json")

    response = client_for(world.otto).post(
        task_url(task["id"], "confirm"),
        {"feedback": {"rating": 5}, "call_reference": "CALL-32"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "settled"
    event = AuditEvent.objects.get(action="task.settled", member=world.alice)
    assert (event.actor, event.call_reference) == (world.otto.user, "CALL-32")


def test_helper_hands_back_and_the_task_is_open_again(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())
    hana.post(task_url(task["id"], "accept"))

    response = hana.post(task_url(task["id"], "cancel"), {"reason": "Car broke"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "open"
    assert response.json()["helper"] is None
    # The hold stays: the task still needs doing.
    assert tokens_of(alice, world.alice)["held"] == 90
    counts = row_counts()
    again = hana.post(task_url(task["id"], "cancel"), {"reason": "Car broke"}, format="json")
    assert again.status_code == 200
    assert row_counts() == counts
    # Someone else (or Hana again) can take it.
    assert hana.post(task_url(task["id"], "accept")).status_code == 200


def test_a_completed_task_cannot_be_cancelled_or_handed_back(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())
    hana.post(task_url(task["id"], "accept"))
    hana.post(task_url(task["id"], "complete"), {"minutes": 60}, format="json")
    counts = row_counts()

    by_member = alice.post(task_url(task["id"], "cancel"), {"reason": "x"}, format="json")
    by_helper = hana.post(task_url(task["id"], "cancel"), {"reason": "x"}, format="json")

    assert by_member.status_code == 409
    assert by_member.json()["code"] == "task_completed"
    assert by_helper.status_code == 409
    assert row_counts() == counts


def test_confirm_before_completion_and_complete_by_someone_else_are_refused(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())
    counts = row_counts()

    early = alice.post(task_url(task["id"], "confirm"), {}, format="json")
    never_accepted = hana.post(task_url(task["id"], "complete"), {"minutes": 30}, format="json")
    assert (early.status_code, early.json()["code"]) == (409, "task_not_completed")
    assert (never_accepted.status_code, never_accepted.json()["code"]) == (409, "task_not_accepted")

    hana.post(task_url(task["id"], "accept"))
    other = new_helper(world, "Ivy")
    counts = row_counts()
    not_theirs = client_for(other.member).post(
        task_url(task["id"], "complete"), {"minutes": 30}, format="json"
    )
    helper_confirms = hana.post(task_url(task["id"], "confirm"), {}, format="json")
    zero = hana.post(task_url(task["id"], "complete"), {"minutes": 0}, format="json")
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (403, "not_your_task")
    assert helper_confirms.status_code == 403
    assert (zero.status_code, zero.json()["code"]) == (400, "minutes_invalid")
    assert row_counts() == counts
    assert Task.objects.get(pk=task["id"]).status == "accepted"


def test_member_lists_their_tasks_and_staff_list_them_for_the_member(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice = client_for(world.alice)
    first = book(alice, task_body(title="Hedge"))
    book(client_for(world.bob), task_body(title="Bob's"))

    own = alice.get("/api/v1/tasks/").json()
    by_staff = client_for(world.otto).get(f"/api/v1/tasks/?member_id={world.alice.pk}").json()
    other_circle = client_for(world.clara).get(f"/api/v1/tasks/?member_id={world.alice.pk}")

    assert [t["id"] for t in own["results"]] == [first["id"]]
    assert [t["id"] for t in by_staff["results"]] == [first["id"]]
    assert other_circle.status_code == 404


def test_an_ineligible_helper_gets_403_naming_the_rule(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    shopping = book(client_for(world.alice), task_body(category="shopping", title="Groceries"))
    diy = book(client_for(world.alice), task_body(category="diy", title="Shelf"))
    counts = row_counts()

    too_low = client_for(world.hana).post(task_url(shopping["id"], "accept"))
    no_skill = client_for(world.hana).post(task_url(diy["id"], "accept"))
    own = client_for(world.alice).post(task_url(diy["id"], "accept"))
    other_circle = client_for(world.sam).post(task_url(diy["id"], "accept"))

    assert (too_low.status_code, too_low.json()["code"]) == (403, "vetting_too_low")
    assert "enhanced" in too_low.json()["detail"]
    assert (no_skill.status_code, no_skill.json()["code"]) == (403, "skill_missing")
    assert (own.status_code, own.json()["code"]) == (403, "not_a_helper")
    assert other_circle.status_code == 404
    assert row_counts() == counts
