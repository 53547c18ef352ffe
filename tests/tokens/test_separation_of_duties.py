"""Staff never act on their own member record's tokens (issue 11): an operator moved a member's
tokens into their own wallet and a coordinator adjusted their own wallet by 6,000 minutes and
granted themselves tokens from the pot, each answered 201.

Now: no adjustment, grant or reversal for one's own record, no member's tokens moved to
oneself or to another member of staff (403 with a code, nothing written), and staff moving
tokens out of a member's wallet say why, which the member reads on their statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import AuditEvent, Member, RoleName, User
from tests.conftest import Personas
from tests.factories import MemberFactory, UserFactory
from tokens.models import Approval, Entry, LedgerTransaction
from tokens.selectors import member_tokens
from tokens.services import purchase_credit, transfer_create

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Member | User | None], APIClient]
TRANSFERS = "/api/v1/transfers/"


def ledger(action: str) -> str:
    return f"/api/v1/circles/southwark/ledger/{action}/"


def rows() -> tuple[int, int, int, int]:
    return (
        LedgerTransaction.objects.count(),
        Entry.objects.count(),
        AuditEvent.objects.count(),
        Approval.objects.count(),
    )


def available(member: Member) -> int:
    return member_tokens(member=member).available


@pytest.fixture
def funded(personas: Personas) -> Personas:
    """Alice has 120 minutes; the pot has 60 (a gift from Bob); Otto and Cora have 60 each."""
    purchase_credit(member=personas.alice, minutes=120, payment_key="alice", actor=None)
    purchase_credit(member=personas.bob, minutes=60, payment_key="bob", actor=None)
    transfer_create(
        source=personas.bob, destination=None, minutes=60, memo="", actor=None, idempotency_key="b"
    )
    for staff in (personas.otto, personas.cora):
        purchase_credit(member=staff, minutes=60, payment_key=f"s{staff.pk}", actor=None)
    return personas


# --- Transfers ---------------------------------------------------------------------------------


def test_an_operator_cannot_move_a_members_tokens_into_their_own_wallet(
    funded: Personas, client_for: ClientFor
) -> None:
    before = rows()

    # Exactly the body the issue found answered 201, with no reason.
    response = client_for(funded.otto).post(
        TRANSFERS,
        {
            "member_id": funded.alice.pk,
            "to_member_id": funded.otto.pk,
            "minutes": 120,
            "idempotency_key": "take",
        },
        format="json",
    )

    assert response.status_code == 403, response.content
    assert (response.json()["code"], response.json()["field"]) == ("own_record", "to_member_id")
    assert rows() == before
    assert (available(funded.alice), available(funded.otto)) == (120, 60)


def test_a_reason_does_not_make_moving_tokens_to_oneself_allowed(
    funded: Personas, client_for: ClientFor
) -> None:
    before = rows()

    response = client_for(funded.cora).post(
        TRANSFERS,
        {
            "member_id": funded.alice.pk,
            "to_member_id": funded.cora.pk,
            "minutes": 30,
            "idempotency_key": "take",
            "reason": "Alice said I could",
        },
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "own_record"
    assert rows() == before


@pytest.mark.parametrize(("actor", "recipient"), [("otto", "cora"), ("cora", "otto")])
def test_staff_cannot_move_a_members_tokens_to_another_member_of_staff(
    funded: Personas, client_for: ClientFor, actor: str, recipient: str
) -> None:
    before = rows()

    response = client_for(getattr(funded, actor)).post(
        TRANSFERS,
        {
            "member_id": funded.alice.pk,
            "to_member_id": getattr(funded, recipient).pk,
            "minutes": 30,
            "idempotency_key": "collude",
            "reason": "A thank-you",
        },
        format="json",
    )

    assert response.status_code == 403
    assert (response.json()["code"], response.json()["field"]) == (
        "staff_recipient",
        "to_member_id",
    )
    assert response.json()["detail"]
    assert rows() == before
    assert available(funded.alice) == 120


@pytest.mark.parametrize("to", ["bob", "pot"])
def test_staff_moving_a_members_tokens_must_say_why(
    funded: Personas, client_for: ClientFor, to: str
) -> None:
    before = rows()
    target: dict[str, Any] = {"to": "pot"} if to == "pot" else {"to_member_id": funded.bob.pk}

    response = client_for(funded.otto).post(
        TRANSFERS,
        {"member_id": funded.alice.pk, **target, "minutes": 30, "idempotency_key": "g"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["field"]) == ("required", "reason")
    assert rows() == before


def test_the_reason_staff_gave_is_on_the_members_statement(
    funded: Personas, client_for: ClientFor
) -> None:
    response = client_for(funded.otto).post(
        TRANSFERS,
        {
            "member_id": funded.alice.pk,
            "to_member_id": funded.bob.pk,
            "minutes": 30,
            "memo": "For the lift",
            "idempotency_key": "g",
            "reason": "Alice rang to thank Bob",
        },
        format="json",
    )
    assert response.status_code == 201, response.content

    statement = client_for(funded.alice).get(f"/api/v1/members/{funded.alice.pk}/statement/")

    newest = statement.json()["results"][0]
    assert newest["minutes"] == -30
    assert "Alice rang to thank Bob" in newest["description"]
    assert "For the lift" in newest["description"]
    # Bob's own statement shows the gift as it always did.
    bob_line = client_for(funded.bob).get(f"/api/v1/members/{funded.bob.pk}/statement/")
    assert bob_line.json()["results"][0]["description"] == "For the lift"


def test_staff_give_their_own_tokens_like_any_member(
    funded: Personas, client_for: ClientFor
) -> None:
    # Otto acting as himself, from his own wallet: not an act of staff, no reason needed.
    response = client_for(funded.otto).post(
        TRANSFERS,
        {"to_member_id": funded.alice.pk, "minutes": 30, "idempotency_key": "mine"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert (available(funded.otto), available(funded.alice)) == (30, 150)


# --- Corrections and reversals on one's own record ----------------------------------------------


@pytest.mark.parametrize(
    ("action", "minutes"), [("adjustments", 6000), ("adjustments", 30), ("grants", 30)]
)
def test_a_coordinator_cannot_correct_their_own_wallet(
    funded: Personas, client_for: ClientFor, action: str, minutes: int
) -> None:
    before = rows()

    response = client_for(funded.cora).post(
        ledger(action),
        {"member_id": funded.cora.pk, "minutes": minutes, "reason": "Overtime"},
        format="json",
    )

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "own_record"
    assert rows() == before  # not even an approval waits
    assert available(funded.cora) == 60


def test_a_coordinator_cannot_reverse_a_transaction_on_their_own_record(
    funded: Personas, client_for: ClientFor
) -> None:
    gift = transfer_create(
        source=funded.cora,
        destination=funded.alice,
        minutes=60,
        memo="",
        actor=funded.cora.user,
        idempotency_key="cg",
    )
    before = rows()

    response = client_for(funded.cora).post(
        f"/api/v1/ledger/transactions/{gift.transaction_id}/reverse/",
        {"reason": "Mistake"},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "own_record"
    assert rows() == before
    assert available(funded.cora) == 0


def test_another_coordinator_corrects_a_coordinators_wallet(
    funded: Personas, client_for: ClientFor
) -> None:
    cole = MemberFactory(
        circle=funded.southwark,
        user=UserFactory(email="cole@example.org", full_name="Cole Coordinator"),
        roles=[RoleName.COORDINATOR],
    )

    response = client_for(cole).post(
        ledger("adjustments"),
        {"member_id": funded.cora.pk, "minutes": 30, "reason": "Cash counted twice"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert available(funded.cora) == 90
