"""Booking a task: who may, for whom, and every bad request refused with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from members.models import Member, MembershipStatus
from tests.conftest import Personas
from tests.matching.conftest import TASKS_URL, book, london, make_active, row_counts, tokens_of

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


def test_member_books_for_themselves_and_the_home_is_copied(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = book(client_for(world.alice), task_body())

    assert task["member"] == {"id": world.alice.pk, "first_name": "Alice"}
    assert task["category"] == "gardening"
    assert task["window_start"].endswith(("+00:00", "Z", "+01:00"))
    assert task["address"]["address_line1"] == world.alice.address_line1
    assert task["address"]["phone"] == world.alice.phone


def test_operator_books_for_a_member_by_phone(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    response = client_for(world.otto).post(
        TASKS_URL,
        task_body(member_id=world.bob.pk, estimated_minutes=60, call_reference="CALL-9"),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["member"]["id"] == world.bob.pk
    assert tokens_of(client_for(world.bob), world.bob)["held"] == 60


def test_estimate_is_held_rounded_up_to_the_billing_increment(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = book(client_for(world.alice), task_body(estimated_minutes=45))

    assert task["estimated_minutes"] == 45
    assert task["held"]["minutes"] == 60


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"window_end": london(hour=9).isoformat()}, 400, "window_invalid"),
        ({"window_end": london(hour=10).isoformat()}, 400, "window_invalid"),
        (
            {
                "window_start": (timezone.now() - timedelta(hours=3)).isoformat(),
                "window_end": (timezone.now() - timedelta(hours=1)).isoformat(),
            },
            400,
            "window_in_past",
        ),
        (
            {
                "window_start": (timezone.now() + timedelta(days=400)).isoformat(),
                "window_end": (timezone.now() + timedelta(days=400, hours=2)).isoformat(),
            },
            400,
            "window_too_far",
        ),
        ({"window_end": (london(hour=10) + timedelta(days=9)).isoformat()}, 400, "window_too_long"),
        ({"estimated_minutes": 0}, 400, "estimate_invalid"),
        ({"estimated_minutes": -30}, 400, "estimate_invalid"),
        ({"estimated_minutes": 481}, 400, "estimate_invalid"),
        ({"estimated_minutes": 150}, 400, "estimate_exceeds_window"),
        ({"estimated_minutes": "lots"}, 400, "invalid"),
        ({"category": "knitting"}, 400, "unknown_category"),
        ({"title": None}, 400, "required"),
        ({"surprise": 1}, 400, "unknown_field"),
        ({"window_start": "tomorrow"}, 400, "invalid"),
    ],
)
def test_bad_bookings_are_refused_and_write_nothing(
    world: Personas,
    client_for: Client,
    task_body: Body,
    changes: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = row_counts()

    response = client_for(world.alice).post(TASKS_URL, task_body(**changes), format="json")

    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert row_counts() == before


def test_not_enough_tokens_is_409_and_holds_nothing(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    bob = client_for(world.bob)
    book(bob, task_body(estimated_minutes=90))  # Bob has 120
    before = row_counts()

    response = bob.post(TASKS_URL, task_body(estimated_minutes=60), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_tokens"
    assert row_counts() == before
    assert tokens_of(bob, world.bob) == {"balance": 120, "held": 90, "available": 30}


@pytest.mark.parametrize("status", [MembershipStatus.PENDING, MembershipStatus.LAPSED])
def test_membership_not_active_or_grace_cannot_book(
    world: Personas, client_for: Client, task_body: Body, status: str
) -> None:
    Member.objects.filter(pk=world.alice.pk).update(membership_status=status)
    before = row_counts()

    response = client_for(world.alice).post(TASKS_URL, task_body(), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "membership_inactive"
    assert row_counts() == before


def test_grace_membership_can_book(world: Personas, client_for: Client, task_body: Body) -> None:
    Member.objects.filter(pk=world.alice.pk).update(membership_status=MembershipStatus.GRACE)

    response = client_for(world.alice).post(TASKS_URL, task_body(), format="json")

    assert response.status_code == 201


def test_a_pending_member_who_paid_nothing_cannot_book(
    personas: Personas, client_for: Client, task_body: Body
) -> None:
    response = client_for(personas.alice).post(TASKS_URL, task_body(), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "membership_inactive"


def test_staff_cannot_book_for_a_member_of_another_circle(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    make_active(world.sam, by=world.clara, tokens=2)
    before = row_counts()

    into_suffolk = client_for(world.otto).post(
        TASKS_URL, task_body(member_id=world.sam.pk), format="json"
    )
    into_southwark = client_for(world.clara).post(
        TASKS_URL, task_body(member_id=world.alice.pk), format="json"
    )

    assert into_suffolk.status_code == 404
    assert into_suffolk.json()["code"] == "member_not_found"
    assert into_southwark.status_code == 404
    assert row_counts() == before


def test_a_member_cannot_book_for_another_member(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    before = row_counts()

    response = client_for(world.alice).post(
        TASKS_URL, task_body(member_id=world.bob.pk), format="json"
    )

    assert response.status_code == 403
    assert row_counts() == before


def test_anonymous_cannot_book(world: Personas, client_for: Client, task_body: Body) -> None:
    response = client_for(None).post(TASKS_URL, task_body(), format="json")

    assert response.status_code == 401


def test_the_same_idempotency_key_for_another_member_is_a_new_booking(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    first = book(client_for(world.alice), task_body(idempotency_key="k1"))
    second = book(client_for(world.bob), task_body(idempotency_key="k1", estimated_minutes=60))

    assert first["id"] != second["id"]


def test_an_operators_key_never_collides_with_the_members_own(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    """Keys belong to the person acting: Alice's key "k1" and Otto's "k1", booking the same job
    for her, are two bookings, not Otto handed Alice's task as if he had booked it."""
    alice, otto = client_for(world.alice), client_for(world.otto)
    first = alice.post(TASKS_URL, task_body(idempotency_key="k1"), format="json")
    second = otto.post(
        TASKS_URL,
        task_body(idempotency_key="k1", member_id=world.alice.pk, call_reference="CALL-1"),
        format="json",
    )

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert first.json()["id"] != second.json()["id"]
    before = row_counts()
    held = tokens_of(alice, world.alice)["held"]

    again = otto.post(
        TASKS_URL,
        task_body(idempotency_key="k1", member_id=world.alice.pk, call_reference="CALL-1"),
        format="json",
    )

    assert (again.status_code, again.json()["id"]) == (200, second.json()["id"])
    assert row_counts() == before
    assert tokens_of(alice, world.alice)["held"] == held


def test_the_same_idempotency_key_for_a_different_booking_is_409(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice = client_for(world.alice)
    book(alice, task_body(idempotency_key="k1"))
    before = row_counts()

    response = alice.post(TASKS_URL, task_body(idempotency_key="k1", title="Other"), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_reused")
    assert row_counts() == before
