"""POST /api/v1/transfers/: a gift to another member of the circle or to its pot.

Members give from their own wallet; staff give for a member they name with `member_id`. The same
idempotency key again returns the first result (200, same body) and moves nothing. Every refusal
is a 400 or 409 in the error format and writes nothing: no transaction, entry or audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import AuditEvent, Member, User
from tests.conftest import Personas
from tokens.models import Account, AccountKind, Entry, LedgerTransaction
from tokens.selectors import member_tokens
from tokens.services import hold_create, purchase_credit

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Member | User | None], APIClient]
URL = "/api/v1/transfers/"


def rows() -> tuple[int, int, int]:
    return (
        LedgerTransaction.objects.count(),
        Entry.objects.count(),
        AuditEvent.objects.count(),
    )


def available(member: Member) -> int:
    return member_tokens(member=member).available


def pot(personas: Personas) -> int:
    return (
        Account.objects.filter(circle=personas.southwark, kind=AccountKind.POT)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


@pytest.fixture
def funded(personas: Personas) -> Personas:
    """Alice has 120 minutes, of which 30 are held; Sam (Suffolk) has 60."""
    purchase_credit(member=personas.alice, minutes=120, payment_key="alice-1", actor=None)
    hold_create(member=personas.alice, minutes=30, reference="task-1", actor=None)
    purchase_credit(member=personas.sam, minutes=60, payment_key="sam-1", actor=None)
    return personas


def gift(to: Member | str, minutes: Any = 30, key: str = "k-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"minutes": minutes, "idempotency_key": key, **extra}
    if isinstance(to, Member):
        body["to_member_id"] = to.pk
    else:
        body["to"] = to
    return body


# --- Giving -----------------------------------------------------------------------------------


def test_member_gives_to_another_member(funded: Personas, client_for: ClientFor) -> None:
    alice, bob = funded.alice, funded.bob

    response = client_for(alice).post(URL, gift(bob, 30, memo="for the shopping"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["memo"], body["member_id"]) == ("gift", "for the shopping", alice.pk)
    assert sorted((e["member_id"], e["minutes"]) for e in body["entries"]) == [
        (alice.pk, -30),
        (bob.pk, 30),
    ]
    assert available(alice) == 60
    assert available(bob) == 30
    event = AuditEvent.objects.get(data__transaction_id=body["id"])
    assert (event.action, event.actor_id, event.member_id) == (
        "tokens.gift",
        alice.user_id,
        alice.pk,
    )


def test_member_gives_to_the_pot(funded: Personas, client_for: ClientFor) -> None:
    response = client_for(funded.alice).post(URL, gift("pot", 45), format="json")

    assert response.status_code == 201
    assert available(funded.alice) == 45
    assert pot(funded) == 45
    assert {e["account"] for e in response.json()["entries"]} == {"wallet", "pot"}


def test_the_same_key_again_returns_the_first_result(
    funded: Personas, client_for: ClientFor
) -> None:
    client = client_for(funded.alice)
    first = client.post(URL, gift(funded.bob, 30), format="json")
    before = rows()

    again = client.post(URL, gift(funded.bob, 30), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert rows() == before
    assert available(funded.alice) == 60
    assert available(funded.bob) == 30


def test_two_members_using_the_same_key_both_give(funded: Personas, client_for: ClientFor) -> None:
    """A key belongs to the person acting: Bob's "k-1" is not Alice's."""
    purchase_credit(member=funded.bob, minutes=60, payment_key="bob-1", actor=None)
    alice, bob = client_for(funded.alice), client_for(funded.bob)

    first = alice.post(URL, gift("pot", 30), format="json")
    second = bob.post(URL, gift("pot", 30), format="json")

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert first.json()["id"] != second.json()["id"]
    assert (available(funded.alice), available(funded.bob), pot(funded)) == (60, 30, 60)
    before = rows()

    replays = [client.post(URL, gift("pot", 30), format="json") for client in (alice, bob)]

    assert [r.status_code for r in replays] == [200, 200]
    assert [r.json()["id"] for r in replays] == [first.json()["id"], second.json()["id"]]
    assert rows() == before
    assert (available(funded.alice), available(funded.bob), pot(funded)) == (60, 30, 60)


def test_staff_acting_for_a_member_never_take_over_the_members_own_key(
    funded: Personas, client_for: ClientFor
) -> None:
    # The same gift, the same key: Alice's, then Otto's for her on the phone. Two gifts, and
    # Otto is not answered with Alice's own as though he had made it.
    first = client_for(funded.alice).post(URL, gift(funded.bob, 30), format="json")
    second = client_for(funded.otto).post(
        URL, gift(funded.bob, 30, member_id=funded.alice.pk, reason="Asked by phone"), format="json"
    )

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert first.json()["id"] != second.json()["id"]
    assert (available(funded.alice), available(funded.bob)) == (30, 60)
    event = AuditEvent.objects.get(data__transaction_id=second.json()["id"])
    assert event.actor_id == funded.otto.user_id


@pytest.mark.parametrize(
    "second",
    [
        {"to_member_id": "bob", "minutes": 20},
        {"to": "pot", "minutes": 30},
        {"to_member_id": "hana", "minutes": 30},
    ],
    ids=["other minutes", "to the pot", "other recipient"],
)
def test_the_same_key_for_a_different_gift_conflicts(
    funded: Personas, client_for: ClientFor, second: dict[str, Any]
) -> None:
    client = client_for(funded.alice)
    client.post(URL, gift(funded.bob, 30), format="json")
    before = rows(), available(funded.alice), available(funded.bob), available(funded.hana)
    body = dict(second, idempotency_key="k-1")
    if "to_member_id" in body:
        body["to_member_id"] = getattr(funded, body["to_member_id"]).pk

    response = client.post(URL, body, format="json")

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["field"]) == (
        "idempotency_key_reused",
        "idempotency_key",
    )
    assert (
        rows(),
        available(funded.alice),
        available(funded.bob),
        available(funded.hana),
    ) == before


@pytest.mark.parametrize("staff", ["otto", "cora"])
def test_staff_give_for_a_member_they_name(
    funded: Personas, client_for: ClientFor, staff: str
) -> None:
    actor = getattr(funded, staff)

    response = client_for(actor).post(
        URL,
        gift(
            funded.bob,
            30,
            member_id=funded.alice.pk,
            reason="Alice rang to say thank you",
            call_reference="CALL-7",
        ),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["member_id"] == funded.alice.pk
    assert available(funded.alice) == 60
    assert available(funded.bob) == 30
    event = AuditEvent.objects.get(data__transaction_id=response.json()["id"])
    assert (event.actor_id, event.actor_member_id, event.member_id) == (
        actor.user_id,
        actor.pk,
        funded.alice.pk,
    )
    assert (event.reason, event.call_reference) == ("Alice rang to say thank you", "CALL-7")


def test_member_may_name_themselves(funded: Personas, client_for: ClientFor) -> None:
    response = client_for(funded.alice).post(
        URL, gift(funded.bob, 30, member_id=funded.alice.pk), format="json"
    )

    assert response.status_code == 201
    assert available(funded.bob) == 30


def test_a_helper_gives_from_their_own_wallet(funded: Personas, client_for: ClientFor) -> None:
    purchase_credit(member=funded.hana, minutes=30, payment_key="hana-1", actor=None)

    response = client_for(funded.hana).post(URL, gift(funded.alice, 30), format="json")

    assert response.status_code == 201
    assert available(funded.hana) == 0
    assert available(funded.alice) == 120


def test_suffolk_members_give_within_suffolk(funded: Personas, client_for: ClientFor) -> None:
    response = client_for(funded.clara).post(
        URL, gift("pot", 60, member_id=funded.sam.pk, reason="Sam asked by phone"), format="json"
    )

    assert response.status_code == 201
    assert available(funded.sam) == 0
    assert pot(funded) == 0  # Southwark's pot is untouched


# --- Who may not ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected", "code"),
    [
        ("bob", 403, "forbidden"),
        ("hana", 403, "forbidden"),
        ("sam", 404, "member_not_found"),
        ("clara", 404, "member_not_found"),
    ],
)
def test_nobody_else_gives_from_a_members_wallet(
    funded: Personas, client_for: ClientFor, who: str, expected: int, code: str
) -> None:
    before = rows()

    response = client_for(getattr(funded, who)).post(
        URL, gift("pot", 30, member_id=funded.alice.pk), format="json"
    )

    assert response.status_code == expected
    assert response.json()["code"] == code
    assert rows() == before
    assert available(funded.alice) == 90


def test_anonymous_is_asked_to_sign_in(funded: Personas, client_for: ClientFor) -> None:
    before = rows()

    response = client_for(None).post(URL, gift("pot", 30, member_id=funded.alice.pk), format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert rows() == before


# --- Bad input: nothing written ---------------------------------------------------------------


def _body(personas: Personas, case: str) -> dict[str, Any]:
    bob, sam, alice = personas.bob, personas.sam, personas.alice
    return {
        "zero minutes": gift(bob, 0),
        "negative minutes": gift(bob, -30),
        "fractional minutes": gift(bob, 1.5),
        "fractional minutes as text": gift(bob, "1.5"),
        "non-numeric minutes": gift(bob, "ten"),
        "boolean minutes": gift(bob, True),
        "null minutes": gift(bob, None),
        "too many minutes": gift(bob, 10**12),
        "missing minutes": {"to_member_id": bob.pk, "idempotency_key": "k-1"},
        "both recipients": {**gift(bob, 30), "to": "pot"},
        "no recipient": {"minutes": 30, "idempotency_key": "k-1"},
        "to the bank": gift("bank", 30),
        "recipient in another circle": gift(sam, 30),
        "recipient who does not exist": {**gift(bob, 30), "to_member_id": sam.pk + 1000},
        "to oneself": gift(alice, 30),
        "missing idempotency key": {"to_member_id": bob.pk, "minutes": 30},
        "blank idempotency key": gift(bob, 30, key="  "),
        "unknown field": gift(bob, 30, tokens=1),
    }[case]


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("zero minutes", "invalid", "minutes"),
        ("negative minutes", "invalid", "minutes"),
        ("fractional minutes", "invalid", "minutes"),
        ("fractional minutes as text", "invalid", "minutes"),
        ("non-numeric minutes", "invalid", "minutes"),
        ("boolean minutes", "invalid", "minutes"),
        ("null minutes", "null", "minutes"),
        ("too many minutes", "invalid", "minutes"),
        ("missing minutes", "required", "minutes"),
        ("both recipients", "invalid", "to_member_id"),
        ("no recipient", "required", "to_member_id"),
        ("to the bank", "invalid_choice", "to"),
        ("recipient in another circle", "member_not_found", "to_member_id"),
        ("recipient who does not exist", "member_not_found", "to_member_id"),
        ("to oneself", "same_member", "to_member_id"),
        ("missing idempotency key", "required", "idempotency_key"),
        ("blank idempotency key", "blank", "idempotency_key"),
        ("unknown field", "unknown_field", "tokens"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    funded: Personas, client_for: ClientFor, case: str, code: str, field: str
) -> None:
    before = rows(), available(funded.alice), available(funded.bob), pot(funded)

    response = client_for(funded.alice).post(URL, _body(funded, case), format="json")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body.get("field")) == (code, field)
    assert body["detail"]
    assert (rows(), available(funded.alice), available(funded.bob), pot(funded)) == before


@pytest.mark.parametrize("to", ["member", "pot"])
def test_more_than_available_is_a_conflict_and_writes_nothing(
    funded: Personas, client_for: ClientFor, to: str
) -> None:
    # Alice has 120 minutes but 30 are held: 91 is one more than she can spend.
    before = rows(), available(funded.alice), available(funded.bob), pot(funded)

    response = client_for(funded.alice).post(
        URL, gift(funded.bob if to == "member" else "pot", 91), format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_tokens"
    assert (rows(), available(funded.alice), available(funded.bob), pot(funded)) == before


def test_exactly_what_is_available_can_be_given(funded: Personas, client_for: ClientFor) -> None:
    response = client_for(funded.alice).post(URL, gift(funded.bob, 90), format="json")

    assert response.status_code == 201
    assert member_tokens(member=funded.alice).available == 0
    assert member_tokens(member=funded.alice).held == 30


def test_a_body_that_is_not_an_object_is_refused(funded: Personas, client_for: ClientFor) -> None:
    before = rows()

    response = client_for(funded.alice).post(URL, [1, 2], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    assert rows() == before
