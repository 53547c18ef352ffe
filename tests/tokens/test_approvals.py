"""Four eyes on coordinators' corrections (issue 11): an adjustment or grant above the circle's
`approval_threshold_minutes` (default 600, ten hours), or any adjustment to a helper who is
also staff, answers 202 `{status: "pending_approval", approval_id}` and moves nothing until
another coordinator approves it (`POST /api/v1/ledger/approvals/{id}/approve/`) or refuses it
(`.../refuse/`). The one who asked never decides; a decided approval stays decided; each step
is audited; it waits on the circle's attention queue until it is decided."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from attention.models import Item, ItemKind
from helpers.models import Helper
from members.models import AuditEvent, Member, RoleName, User
from members.services import role_grant
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory, UserFactory
from tokens.models import Approval, Entry, LedgerTransaction
from tokens.selectors import member_tokens
from tokens.services import purchase_credit, transfer_create

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Member | User | None], APIClient]
APPROVALS = "/api/v1/circles/southwark/ledger/approvals/"


def ledger(action: str, circle: str = "southwark") -> str:
    return f"/api/v1/circles/{circle}/ledger/{action}/"


def decide(approval_id: int, decision: str) -> str:
    return f"/api/v1/ledger/approvals/{approval_id}/{decision}/"


def rows() -> tuple[int, int, int]:
    return (LedgerTransaction.objects.count(), Entry.objects.count(), Approval.objects.count())


def available(member: Member) -> int:
    return member_tokens(member=member).available


def second_coordinator(personas: Personas, name: str = "Cole") -> Member:
    return MemberFactory(
        circle=personas.southwark,
        user=UserFactory(email=f"{name.lower()}@example.org", full_name=f"{name} Coordinator"),
        roles=[RoleName.COORDINATOR],
    )


@pytest.fixture
def cole(personas: Personas) -> Member:
    return second_coordinator(personas)


def ask(client: APIClient, action: str, member: Member, minutes: int, **extra: Any) -> Any:
    return client.post(
        ledger(action),
        {"member_id": member.pk, "minutes": minutes, "reason": "Lost paper records", **extra},
        format="json",
    )


def pending(response: Any) -> int:
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending_approval"
    approval_id: int = body["approval_id"]
    return approval_id


# --- Asking -------------------------------------------------------------------------------------


def test_a_large_adjustment_waits_for_a_second_coordinator(
    personas: Personas, client_for: ClientFor
) -> None:
    before = rows()

    approval_id = pending(ask(client_for(personas.cora), "adjustments", personas.alice, 6000))

    assert (LedgerTransaction.objects.count(), Entry.objects.count()) == before[:2]
    assert available(personas.alice) == 0
    asked = AuditEvent.objects.get(action="tokens.approval_asked")
    assert (asked.actor_id, asked.member_id, asked.reason) == (
        personas.cora.user_id,
        personas.alice.pk,
        "Lost paper records",
    )
    assert asked.data["approval_id"] == approval_id
    item = Item.objects.get(kind=ItemKind.APPROVAL_PENDING)
    assert (item.cause, item.member_id, item.done_at) == (
        f"approval:{approval_id}",
        personas.alice.pk,
        None,
    )
    listed = client_for(personas.cora).get(APPROVALS)
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert (row["id"], row["kind"], row["member_id"], row["minutes"], row["status"]) == (
        approval_id,
        "adjustment",
        personas.alice.pk,
        6000,
        "pending",
    )
    assert row["asked_by"] == personas.cora.full_name
    assert row["transaction_id"] is None


@pytest.mark.parametrize("minutes", [600, -600])
def test_corrections_up_to_the_threshold_are_posted_at_once(
    personas: Personas, client_for: ClientFor, minutes: int
) -> None:
    purchase_credit(member=personas.alice, minutes=600, payment_key="p", actor=None)

    response = ask(client_for(personas.cora), "adjustments", personas.alice, minutes)

    assert response.status_code == 201, response.content
    assert available(personas.alice) == 600 + minutes
    assert Approval.objects.count() == 0


def test_taking_a_large_amount_out_waits_too(personas: Personas, client_for: ClientFor) -> None:
    purchase_credit(member=personas.alice, minutes=1200, payment_key="p", actor=None)

    pending(ask(client_for(personas.cora), "adjustments", personas.alice, -601))

    assert available(personas.alice) == 1200


def test_the_threshold_is_the_circles_setting(personas: Personas, client_for: ClientFor) -> None:
    personas.southwark.approval_threshold_minutes = 30
    personas.southwark.save(update_fields=["approval_threshold_minutes"])

    pending(ask(client_for(personas.cora), "adjustments", personas.alice, 31))
    assert ask(client_for(personas.cora), "adjustments", personas.bob, 30).status_code == 201


def test_a_large_grant_waits_for_a_second_coordinator(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    purchase_credit(member=personas.bob, minutes=900, payment_key="p", actor=None)
    transfer_create(
        source=personas.bob, destination=None, minutes=900, memo="", actor=None, idempotency_key="d"
    )

    approval_id = pending(ask(client_for(personas.cora), "grants", personas.alice, 900))
    assert available(personas.alice) == 0

    response = client_for(cole).post(decide(approval_id, "approve"), {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "grant"
    assert available(personas.alice) == 900
    tx = LedgerTransaction.objects.get(pk=response.json()["transaction_id"])
    assert (tx.kind, tx.actor_id, tx.member_id) == ("grant", cole.user_id, personas.alice.pk)


def test_any_adjustment_to_a_helper_who_is_also_staff_waits(
    personas: Personas, client_for: ClientFor
) -> None:
    role_grant(member=personas.otto, role=RoleName.HELPER)
    HelperFactory(member=personas.otto)

    pending(ask(client_for(personas.cora), "adjustments", personas.otto, 30))
    # A helper who is not staff, and staff who do not help, are adjusted at once.
    assert ask(client_for(personas.cora), "adjustments", personas.hana, 30).status_code == 201
    assert Helper.objects.filter(member=personas.hana).exists()


def test_asking_again_with_the_same_key_answers_the_same_approval(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    cora = client_for(personas.cora)
    first = pending(ask(cora, "adjustments", personas.alice, 6000, idempotency_key="k"))

    assert pending(ask(cora, "adjustments", personas.alice, 6000, idempotency_key="k")) == first
    assert Approval.objects.count() == 1
    assert AuditEvent.objects.filter(action="tokens.approval_asked").count() == 1
    # Once approved, the same key answers the posted transaction and moves nothing more.
    approved = client_for(cole).post(decide(first, "approve"), {}, format="json").json()
    again = ask(cora, "adjustments", personas.alice, 6000, idempotency_key="k")
    assert again.status_code == 200
    assert again.json()["id"] == approved["transaction_id"]
    assert available(personas.alice) == 6000
    # The same key for something else is a mistake.
    other = ask(cora, "adjustments", personas.bob, 6000, idempotency_key="k")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


# --- Deciding -----------------------------------------------------------------------------------


def test_another_coordinator_approves_and_the_movement_is_posted_once(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    approval_id = pending(ask(client_for(personas.cora), "adjustments", personas.alice, 6000))

    response = client_for(cole).post(
        decide(approval_id, "approve"), {"reason": "Checked the paper book"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decided_by"], body["decision_reason"]) == (
        "approved",
        cole.full_name,
        "Checked the paper book",
    )
    assert available(personas.alice) == 6000
    tx = LedgerTransaction.objects.get(pk=body["transaction_id"])
    assert (tx.kind, tx.member_id, tx.actor_id) == ("adjustment", personas.alice.pk, cole.user_id)
    approved = AuditEvent.objects.get(action="tokens.approval_approved")
    assert (approved.actor_id, approved.member_id, approved.reason) == (
        cole.user_id,
        personas.alice.pk,
        "Checked the paper book",
    )
    assert approved.data["transaction_id"] == tx.pk
    item = Item.objects.get(kind=ItemKind.APPROVAL_PENDING)
    assert (item.done_at is not None, item.done_by_id) == (True, cole.user_id)
    assert client_for(personas.cora).get(APPROVALS).json()["count"] == 0

    # A decided approval stays decided: approving or refusing again is a 409, nothing moves.
    third = second_coordinator(personas, "Cleo")
    before = rows()
    for who, decision in ((cole, "approve"), (third, "approve"), (third, "refuse")):
        again = client_for(who).post(decide(approval_id, decision), {}, format="json")
        assert (again.status_code, again.json()["code"]) == (409, "approval_decided")
    assert rows() == before
    assert available(personas.alice) == 6000


@pytest.mark.parametrize("decision", ["approve", "refuse"])
def test_the_one_who_asked_never_decides(
    personas: Personas, client_for: ClientFor, decision: str
) -> None:
    approval_id = pending(ask(client_for(personas.cora), "adjustments", personas.alice, 6000))
    before = (rows(), AuditEvent.objects.count())

    response = client_for(personas.cora).post(decide(approval_id, decision), {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "approval_own_request"
    assert (rows(), AuditEvent.objects.count()) == before
    assert Approval.objects.get().status == "pending"
    assert available(personas.alice) == 0


def test_a_coordinator_cannot_approve_a_correction_to_their_own_wallet(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    approval_id = pending(ask(client_for(personas.cora), "adjustments", cole, 6000))
    before = rows()

    response = client_for(cole).post(decide(approval_id, "approve"), {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "own_record"
    assert rows() == before
    assert Approval.objects.get().status == "pending"


def test_another_coordinator_refuses_and_nothing_moves(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    approval_id = pending(ask(client_for(personas.cora), "adjustments", personas.alice, 6000))
    transactions = LedgerTransaction.objects.count()

    response = client_for(cole).post(
        decide(approval_id, "refuse"), {"reason": "No record of this"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["transaction_id"], body["decision_reason"]) == (
        "refused",
        None,
        "No record of this",
    )
    assert LedgerTransaction.objects.count() == transactions
    assert available(personas.alice) == 0
    refused = AuditEvent.objects.get(action="tokens.approval_refused")
    assert (refused.actor_id, refused.reason) == (cole.user_id, "No record of this")
    assert Item.objects.get(kind=ItemKind.APPROVAL_PENDING).done_at is not None
    # Asking again with the same key does not bring a refusal back.
    again = ask(client_for(personas.cora), "adjustments", personas.alice, 6000)
    assert again.status_code == 202  # a new key: a new request, waiting again
    body = client_for(personas.cora).get(APPROVALS).json()
    assert body["count"] == 1


def test_a_refused_key_asked_again_is_a_409(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    cora = client_for(personas.cora)
    approval_id = pending(ask(cora, "adjustments", personas.alice, 6000, idempotency_key="k"))
    client_for(cole).post(decide(approval_id, "refuse"), {}, format="json")

    again = ask(cora, "adjustments", personas.alice, 6000, idempotency_key="k")

    assert (again.status_code, again.json()["code"]) == (409, "approval_refused")


def test_a_grant_the_pot_cannot_cover_stays_pending(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    approval_id = pending(ask(client_for(personas.cora), "grants", personas.alice, 900))
    before = (rows(), AuditEvent.objects.count())

    response = client_for(cole).post(decide(approval_id, "approve"), {}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "insufficient_tokens")
    assert (rows(), AuditEvent.objects.count()) == before
    assert Approval.objects.get().status == "pending"
    assert Item.objects.get(kind=ItemKind.APPROVAL_PENDING).done_at is None


# --- Who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["otto", "alice", "hana"])
def test_only_coordinators_list_and_decide_approvals(
    personas: Personas, client_for: ClientFor, who: str
) -> None:
    approval_id = pending(ask(client_for(personas.cora), "adjustments", personas.bob, 6000))
    client = client_for(getattr(personas, who))

    assert client.get(APPROVALS).status_code == 403
    for decision in ("approve", "refuse"):
        response = client.post(decide(approval_id, decision), {}, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert Approval.objects.get().status == "pending"


def test_another_circles_coordinator_sees_nothing_of_southwarks_approvals(
    personas: Personas, client_for: ClientFor
) -> None:
    approval_id = pending(ask(client_for(personas.cora), "adjustments", personas.bob, 6000))
    clara = client_for(personas.clara)

    assert clara.get(APPROVALS).status_code == 403
    assert clara.get(ledger("approvals", "suffolk")).json()["count"] == 0
    for decision in ("approve", "refuse"):
        response = clara.post(decide(approval_id, decision), {}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "approval_not_found")
    assert Approval.objects.get().status == "pending"


def test_the_approvals_list_is_paginated(personas: Personas, client_for: ClientFor) -> None:
    cora = client_for(personas.cora)
    for member in (personas.alice, personas.bob, personas.hana):
        pending(ask(cora, "adjustments", member, 6000))

    page = cora.get(APPROVALS, {"limit": 2}).json()

    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"] is not None
    assert [row["member_id"] for row in page["results"]] == [personas.alice.pk, personas.bob.pk]


def test_the_schema_describes_the_approvals(client_for: ClientFor, personas: Personas) -> None:
    schema = client_for(None).get("/api/v1/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert "get" in paths["/api/v1/circles/{slug}/ledger/approvals/"]
    assert "post" in paths["/api/v1/ledger/approvals/{approval_id}/approve/"]
    assert "post" in paths["/api/v1/ledger/approvals/{approval_id}/refuse/"]
    responses = paths["/api/v1/circles/{slug}/ledger/adjustments/"]["post"]["responses"]
    assert "202" in responses


# --- At once ------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_coordinators_approving_at_once_post_it_once(
    personas: Personas, client_for: ClientFor, cole: Member
) -> None:
    cleo = second_coordinator(personas, "Cleo")
    approval_id = pending(ask(client_for(personas.cora), "adjustments", personas.alice, 6000))
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def approve(who: Member) -> None:
        client = client_for(who)
        barrier.wait()
        try:
            answers.append(client.post(decide(approval_id, "approve"), {}, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(who,)) for who in (cole, cleo)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer.status_code for answer in answers) == [200, 409]
    assert available(personas.alice) == 6000
    assert LedgerTransaction.objects.filter(kind="adjustment").count() == 1
    assert AuditEvent.objects.filter(action="tokens.approval_approved").count() == 1
