"""GET /api/v1/members/{id}/tokens/ and GET /api/v1/members/{id}/statement/.

A member sees their own tokens and statement; staff of their circle see any member's; another
member of the circle is refused (403); anyone outside the circle is told there is no such member
(404), so nothing of one circle shows in another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from members.models import Member, User
from tests.conftest import Personas
from tokens.models import Account, Entry
from tokens.services import (
    hold_create,
    hold_release,
    hold_settle,
    purchase_credit,
    transfer_create,
)

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Member | User | None], APIClient]


def tokens_url(member: Member | int) -> str:
    member_id = member if isinstance(member, int) else member.pk
    return f"/api/v1/members/{member_id}/tokens/"


def statement_url(member: Member | int) -> str:
    member_id = member if isinstance(member, int) else member.pk
    return f"/api/v1/members/{member_id}/statement/"


def quantity(minutes: int, tokens: str) -> dict[str, Any]:
    return {"minutes": minutes, "tokens": tokens}


# --- Tokens -----------------------------------------------------------------------------------


def test_tokens_show_balance_held_and_available(personas: Personas, client_for: ClientFor) -> None:
    alice = personas.alice
    purchase_credit(member=alice, minutes=90, payment_key="p", actor=None)
    hold_create(member=alice, minutes=30, reference="task-1", actor=None)

    response = client_for(alice).get(tokens_url(alice))

    assert response.status_code == 200
    assert response.json() == {
        "balance": quantity(90, "1.50"),
        "held": quantity(30, "0.50"),
        "available": quantity(60, "1.00"),
    }


def test_tokens_of_a_member_with_no_wallet_yet_are_zero(
    personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.bob).get(tokens_url(personas.bob))

    assert response.status_code == 200
    assert response.json() == {
        "balance": quantity(0, "0.00"),
        "held": quantity(0, "0.00"),
        "available": quantity(0, "0.00"),
    }


def test_tokens_use_the_circles_token_minutes_to_two_places(
    personas: Personas, client_for: ClientFor
) -> None:
    personas.southwark.token_minutes = 45
    personas.southwark.save(update_fields=["token_minutes"])
    alice = personas.alice
    purchase_credit(member=alice, minutes=100, payment_key="p", actor=None)
    hold_create(member=alice, minutes=10, reference="task-1", actor=None)

    body = client_for(alice).get(tokens_url(alice)).json()

    # 100/45 = 2.222..., 10/45 = 0.222..., 90/45 = 2
    assert body["balance"] == quantity(100, "2.22")
    assert body["held"] == quantity(10, "0.22")
    assert body["available"] == quantity(90, "2.00")


def test_tokens_round_half_up(personas: Personas, client_for: ClientFor) -> None:
    alice = personas.alice
    purchase_credit(member=alice, minutes=1, payment_key="p", actor=None)  # 1/60 = 0.0166...
    purchase_credit(member=personas.bob, minutes=3, payment_key="q", actor=None)  # 0.05

    assert client_for(alice).get(tokens_url(alice)).json()["balance"]["tokens"] == "0.02"
    assert client_for(personas.bob).get(tokens_url(personas.bob)).json()["balance"] == quantity(
        3, "0.05"
    )


def test_tokens_after_settle_and_release(personas: Personas, client_for: ClientFor) -> None:
    alice, hana = personas.alice, personas.hana
    purchase_credit(member=alice, minutes=180, payment_key="p", actor=None)
    settled = hold_create(member=alice, minutes=90, reference="task-1", actor=None)
    released = hold_create(member=alice, minutes=60, reference="task-2", actor=None)
    hold_settle(hold=settled, minutes_done=60, helper=hana, actor=None)
    hold_release(hold=released, actor=None)

    alice_body = client_for(alice).get(tokens_url(alice)).json()
    hana_body = client_for(hana).get(tokens_url(hana)).json()

    assert alice_body["balance"] == alice_body["available"] == quantity(120, "2.00")
    assert alice_body["held"] == quantity(0, "0.00")
    assert hana_body["available"] == quantity(60, "1.00")


# --- Statement --------------------------------------------------------------------------------


def make_history(personas: Personas) -> None:
    """Alice: +120 bought, -30 to Bob, -45 held, +45 released, +20 from Bob, -60 to the pot."""
    alice, bob = personas.alice, personas.bob
    purchase_credit(member=alice, minutes=120, payment_key="p", actor=None)
    transfer_create(
        source=alice, destination=bob, minutes=30, memo="thanks", actor=None, idempotency_key="1"
    )
    hold = hold_create(member=alice, minutes=45, reference="task-1", actor=None)
    hold_release(hold=hold, actor=None)
    transfer_create(
        source=bob, destination=alice, minutes=20, memo="back", actor=None, idempotency_key="2"
    )
    transfer_create(
        source=alice, destination=None, minutes=60, memo="", actor=None, idempotency_key="3"
    )


def test_statement_lists_entries_newest_first_with_running_balance(
    personas: Personas, client_for: ClientFor
) -> None:
    make_history(personas)

    response = client_for(personas.alice).get(statement_url(personas.alice))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    lines = [(line["kind"], line["minutes"], line["balance"]) for line in body["results"]]
    assert lines == [
        ("gift", -60, 50),
        ("gift", 20, 110),
        ("release", 45, 90),
        ("hold", -45, 45),
        ("gift", -30, 90),
        ("purchase", 120, 120),
    ]
    first = body["results"][0]
    assert set(first) >= {"id", "created_at", "description", "minutes", "balance"}
    assert body["results"][4]["description"] == "thanks"
    # The newest balance is what the member can spend now.
    tokens = client_for(personas.alice).get(tokens_url(personas.alice)).json()
    assert first["balance"] == tokens["available"]["minutes"]


def test_statement_pages_keep_the_running_balance(
    personas: Personas, client_for: ClientFor
) -> None:
    make_history(personas)
    client = client_for(personas.alice)
    everything = client.get(statement_url(personas.alice)).json()["results"]

    pages = [
        client.get(statement_url(personas.alice), {"limit": 4, "offset": offset}).json()
        for offset in (0, 4)
    ]
    shifted = client.get(statement_url(personas.alice), {"limit": 2, "offset": 3}).json()

    assert [p["count"] for p in pages] == [6, 6]
    assert pages[0]["next"] is not None
    assert pages[1]["next"] is None
    assert pages[0]["previous"] is None
    assert pages[1]["previous"] is not None
    assert pages[0]["results"] + pages[1]["results"] == everything
    assert shifted["results"] == everything[3:5]


def test_statement_past_the_end_is_empty(personas: Personas, client_for: ClientFor) -> None:
    make_history(personas)

    body = (
        client_for(personas.alice)
        .get(statement_url(personas.alice), {"limit": 10, "offset": 50})
        .json()
    )

    assert body["count"] == 6
    assert body["results"] == []


def test_statement_of_a_member_with_no_wallet_is_empty(
    personas: Personas, client_for: ClientFor
) -> None:
    body = client_for(personas.bob).get(statement_url(personas.bob)).json()

    assert body["count"] == 0
    assert body["results"] == []


def test_statement_shows_only_the_members_own_entries(
    personas: Personas, client_for: ClientFor
) -> None:
    make_history(personas)
    purchase_credit(member=personas.sam, minutes=60, payment_key="p", actor=None)

    bob_lines = client_for(personas.bob).get(statement_url(personas.bob)).json()["results"]

    assert [(line["minutes"], line["balance"]) for line in bob_lines] == [(-20, 10), (30, 30)]


# --- Who may see them -------------------------------------------------------------------------

# (persona asking, expected status) for Alice's tokens and statement.
ACCESS = [
    ("alice", 200),
    ("otto", 200),
    ("cora", 200),
    ("bob", 403),
    ("hana", 403),
    ("sam", 404),
    ("clara", 404),
]


@pytest.mark.parametrize("url", [tokens_url, statement_url], ids=["tokens", "statement"])
@pytest.mark.parametrize(("who", "expected"), ACCESS)
def test_who_may_see_a_members_tokens_and_statement(
    personas: Personas,
    client_for: ClientFor,
    url: Callable[[Member], str],
    who: str,
    expected: int,
) -> None:
    purchase_credit(member=personas.alice, minutes=60, payment_key="p", actor=None)

    response = client_for(getattr(personas, who)).get(url(personas.alice))

    assert response.status_code == expected
    if expected == 403:
        assert response.json()["code"] == "forbidden"
    if expected == 404:
        assert response.json()["code"] == "member_not_found"
        assert "60" not in response.content.decode()


@pytest.mark.parametrize("url", [tokens_url, statement_url], ids=["tokens", "statement"])
def test_anonymous_is_asked_to_sign_in(
    personas: Personas, client_for: ClientFor, url: Callable[[Member], str]
) -> None:
    response = client_for(None).get(url(personas.alice))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("url", [tokens_url, statement_url], ids=["tokens", "statement"])
def test_unknown_member_is_not_found(
    personas: Personas, client_for: ClientFor, url: Callable[[int], str]
) -> None:
    response = client_for(personas.cora).get(url(personas.clara.pk + 1000))

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"


def test_a_helper_sees_their_own_tokens(personas: Personas, client_for: ClientFor) -> None:
    purchase_credit(member=personas.hana, minutes=30, payment_key="p", actor=None)

    response = client_for(personas.hana).get(tokens_url(personas.hana))

    assert response.status_code == 200
    assert response.json()["available"] == quantity(30, "0.50")


def test_suffolks_coordinator_sees_suffolks_members(
    personas: Personas, client_for: ClientFor
) -> None:
    purchase_credit(member=personas.sam, minutes=30, payment_key="p", actor=None)

    tokens = client_for(personas.clara).get(tokens_url(personas.sam))
    statement = client_for(personas.clara).get(statement_url(personas.sam))

    assert tokens.status_code == statement.status_code == 200
    assert tokens.json()["balance"] == quantity(30, "0.50")
    assert [line["minutes"] for line in statement.json()["results"]] == [30]


# --- What a statement costs -------------------------------------------------------------------


def test_a_statement_costs_the_same_few_statements_however_long_it_is(
    personas: Personas, client_for: ClientFor, django_assert_num_queries: Any
) -> None:
    """Signing in (the token) and finding the member and their circle, then one statement for
    the wallet and its count and one for the page: the same for one entry as for six; a later
    page adds the sum of the newer entries."""
    make_history(personas)
    bob, alice = client_for(personas.bob), client_for(personas.alice)

    with django_assert_num_queries(5):
        short = bob.get(statement_url(personas.bob))
    with django_assert_num_queries(5):
        long = alice.get(statement_url(personas.alice))
    with django_assert_num_queries(6):
        later = alice.get(statement_url(personas.alice), {"limit": 2, "offset": 2})

    assert short.json()["count"] == 2
    assert long.json()["count"] == 6
    assert later.json()["results"] == long.json()["results"][2:4]


def test_statement_lines_show_each_transactions_own_time_and_memo(
    personas: Personas, client_for: ClientFor
) -> None:
    make_history(personas)
    wallet = Account.objects.get(member=personas.alice)
    moment = DateTimeField()

    lines = client_for(personas.alice).get(statement_url(personas.alice)).json()["results"]

    entries = Entry.objects.filter(account=wallet).select_related("transaction").order_by("-id")
    assert [(line["id"], line["transaction_id"], line["created_at"]) for line in lines] == [
        (entry.pk, entry.transaction_id, moment.to_representation(entry.transaction.created_at))
        for entry in entries
    ]
    assert [line["description"] for line in lines] == [
        "Gift",
        "back",
        "Release task-1",
        "Held for task-1",
        "thanks",
        "Tokens bought",
    ]
