"""The coordinator's books over HTTP (transactions, balances, adjustments, grants, reversals,
the audit) and `manage.py ledger_audit`.

Only a circle's coordinators reach its books: operators and members are refused (403), and so is
another circle's coordinator (403 on the circle's own URLs; 404 for a transaction id, which does
not say which circle it belongs to). Nothing of Southwark ever shows in Suffolk's books.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import execute_from_command_line
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from circle.models import Circle
from members.models import AuditEvent, Member, RoleName, User
from tests.conftest import Personas
from tests.factories import MemberFactory, UserFactory
from tokens.apis import TransactionOutput
from tokens.models import Account, AccountKind, Entry, Hold, LedgerTransaction
from tokens.selectors import member_tokens, token_quantity
from tokens.services import (
    hold_create,
    hold_release,
    hold_settle,
    purchase_credit,
    reversal_create,
    transfer_create,
    wallet_id,
)

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Member | User | None], APIClient]
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
LONDON = ZoneInfo("Europe/London")


def rows() -> tuple[int, int, int]:
    return (
        LedgerTransaction.objects.count(),
        Entry.objects.count(),
        AuditEvent.objects.count(),
    )


def available(member: Member) -> int:
    return member_tokens(member=member).available


def account_id(circle_slug: str, kind: str) -> int:
    return Account.objects.get(circle__slug=circle_slug, kind=kind).pk


@dataclass
class Books:
    """Three of Southwark's transactions, oldest first, and one of Suffolk's."""

    purchase: int  # Alice buys 120
    gift_to_bob: int  # Alice gives Bob 30
    gift_to_pot: int  # Alice gives the pot 30
    suffolk_purchase: int  # Sam buys 60


@pytest.fixture
def books(personas: Personas) -> Books:
    alice, bob = personas.alice, personas.bob
    purchase = purchase_credit(member=alice, minutes=120, payment_key="p1", actor=None)
    to_bob = transfer_create(
        source=alice, destination=bob, minutes=30, memo="", actor=None, idempotency_key="g1"
    )
    suffolk = purchase_credit(member=personas.sam, minutes=60, payment_key="p1", actor=None)
    to_pot = transfer_create(
        source=alice, destination=None, minutes=30, memo="", actor=None, idempotency_key="g2"
    )
    return Books(
        purchase.transaction_id,
        to_bob.transaction_id,
        to_pot.transaction_id,
        suffolk.transaction_id,
    )


def ledger(slug: str, what: str) -> str:
    return f"/api/v1/circles/{slug}/ledger/{what}/"


def reverse_url(transaction_id: int) -> str:
    return f"/api/v1/ledger/transactions/{transaction_id}/reverse/"


def ids(response: Any) -> list[int]:
    return [tx["id"] for tx in response.json()["results"]]


# --- Transactions -----------------------------------------------------------------------------


def test_coordinator_lists_the_circles_transactions_newest_first(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).get(ledger("southwark", "transactions"))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert ids(response) == [books.gift_to_pot, books.gift_to_bob, books.purchase]
    purchase = body["results"][2]
    assert (purchase["kind"], purchase["member_id"]) == ("purchase", personas.alice.pk)
    assert sorted((e["account"], e["member_id"], e["minutes"]) for e in purchase["entries"]) == [
        ("issuance", None, -120),
        ("wallet", personas.alice.pk, 120),
    ]


def test_suffolks_coordinator_sees_only_suffolks_transactions(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.clara).get(ledger("suffolk", "transactions"))

    assert response.status_code == 200
    assert ids(response) == [books.suffolk_purchase]
    southwark_accounts = set(
        Account.objects.filter(circle=personas.southwark).values_list("id", flat=True)
    )
    entries = response.json()["results"][0]["entries"]
    assert not {e["account_id"] for e in entries} & southwark_accounts


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("alice", ["gift_to_pot", "gift_to_bob", "purchase"]),
        ("bob", ["gift_to_bob"]),
        ("pot", ["gift_to_pot"]),
        ("issuance", ["purchase"]),
    ],
)
def test_transactions_filtered_by_account(
    books: Books, personas: Personas, client_for: ClientFor, account: str, expected: list[str]
) -> None:
    if account in ("alice", "bob"):
        chosen = wallet_id(getattr(personas, account))
    else:
        chosen = account_id("southwark", account)

    response = client_for(personas.cora).get(
        ledger("southwark", "transactions"), {"account_id": chosen}
    )

    assert response.status_code == 200
    assert ids(response) == [getattr(books, name) for name in expected]


# On PostgreSQL a transaction's time is the start of the database transaction that wrote it,
# which every write inside a test's own transaction shares: there this test commits each
# movement (transaction=True) to give each its own time. On SQLite the time comes from Python's
# clock, call by call, and a committed ledger could not be emptied after the test (entries
# refuse DELETE), so there it stays in the test's transaction.
@pytest.mark.django_db(transaction=ON_POSTGRES)
def test_transactions_filtered_by_date_and_account(
    personas: Personas, client_for: ClientFor
) -> None:
    alice = personas.alice
    first = purchase_credit(member=alice, minutes=120, payment_key="p1", actor=None)
    second = transfer_create(
        source=alice, destination=personas.bob, minutes=30, memo="", actor=None, idempotency_key="1"
    )
    third = transfer_create(
        source=alice, destination=None, minutes=30, memo="", actor=None, idempotency_key="2"
    )
    one, two, three = (p.transaction_id for p in (first, second, third))
    at = dict(LedgerTransaction.objects.values_list("id", "created_at"))
    assert at[one] < at[two] < at[three]
    day = timezone.localdate(at[one])  # in London, as a bare date in the query is read
    next_day = day + timedelta(days=1)
    london_wall_clock = at[two].astimezone(LONDON).replace(tzinfo=None).isoformat()
    utc_with_z = at[two].astimezone(UTC).isoformat().replace("+00:00", "Z")
    bob = wallet_id(personas.bob)
    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"from": at[two].isoformat()}, [three, two]),
        ({"to": at[two].isoformat()}, [one]),
        ({"from": at[two].isoformat(), "to": at[three].isoformat()}, [two]),
        ({"from": utc_with_z}, [three, two]),
        ({"from": london_wall_clock}, [three, two]),  # no offset: London time
        ({"from": day.isoformat()}, [three, two, one]),
        ({"to": day.isoformat()}, [three, two, one]),  # a bare date includes that whole day
        ({"to": (day - timedelta(days=1)).isoformat()}, []),
        ({"from": day.isoformat(), "to": day.isoformat()}, [three, two, one]),
        ({"from": next_day.isoformat()}, []),
        ({"account_id": bob, "from": day.isoformat()}, [two]),
        ({"account_id": bob, "from": at[three].isoformat()}, []),
        ({"account_id": wallet_id(alice), "to": at[three].isoformat()}, [two, one]),
    ]
    client = client_for(personas.cora)

    for params, expected in cases:
        response = client.get(ledger("southwark", "transactions"), params)
        assert response.status_code == 200, params
        assert ids(response) == expected, params


def test_transactions_are_paginated(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.cora)

    first = client.get(ledger("southwark", "transactions"), {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == second["count"] == 3
    assert [tx["id"] for tx in first["results"] + second["results"]] == [
        books.gift_to_pot,
        books.gift_to_bob,
        books.purchase,
    ]


def test_a_page_of_the_ledger_is_one_statement_after_the_caller(
    books: Books, personas: Personas, client_for: ClientFor, django_assert_num_queries: Any
) -> None:
    """Signing in, the circle and its coordinator, then one statement: the page with its
    transactions' entries and the count of them all (a full page cannot tell its count).
    Filtered the same; past the end, an empty page is counted by a statement of its own."""
    client = client_for(personas.cora)
    alice = wallet_id(personas.alice)
    today = timezone.localdate().isoformat()

    with django_assert_num_queries(4):
        full = client.get(ledger("southwark", "transactions"), {"limit": 2}).json()
    with django_assert_num_queries(5):  # and the account's check
        filtered = client.get(
            ledger("southwark", "transactions"), {"limit": 1, "account_id": alice, "from": today}
        ).json()
    with django_assert_num_queries(5):
        past = client.get(ledger("southwark", "transactions"), {"offset": 10}).json()

    assert (full["count"], ids_of(full)) == (3, [books.gift_to_pot, books.gift_to_bob])
    assert [len(tx["entries"]) for tx in full["results"]] == [2, 2]
    assert (filtered["count"], ids_of(filtered)) == (3, [books.gift_to_pot])
    assert (past["count"], past["results"]) == (3, [])


def ids_of(page: dict[str, Any]) -> list[int]:
    return [tx["id"] for tx in page["results"]]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("999999", "unknown_account"),
        ("suffolk-issuance", "unknown_account"),
        ("abc", "invalid"),
        ("-1", "invalid"),
        ("\u00b2", "invalid"),  # a Unicode digit that int() refuses
    ],
)
def test_unknown_account_is_refused(
    books: Books, personas: Personas, client_for: ClientFor, raw: str, code: str
) -> None:
    if raw == "suffolk-issuance":
        raw = str(account_id("suffolk", AccountKind.ISSUANCE))

    response = client_for(personas.cora).get(
        ledger("southwark", "transactions"), {"account_id": raw}
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, "account_id")


@pytest.mark.parametrize(
    ("param", "raw"),
    [
        ("from", "yesterday"),
        ("to", "03/02/2024"),
        ("from", "2024-13-01"),
        ("to", "2024-02-30"),
        ("from", "2024-02-30T10:00:00Z"),
    ],
)
def test_bad_date_is_refused(
    books: Books, personas: Personas, client_for: ClientFor, param: str, raw: str
) -> None:
    response = client_for(personas.cora).get(ledger("southwark", "transactions"), {param: raw})

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", param)


@pytest.mark.parametrize(
    ("param", "raw"),
    [
        ("to", "9999-12-31"),
        ("from", "0001-01-01T00:00:00+01:00"),
        ("from", "0001-01-01"),
        ("to", "9999-12-31T23:00:00-05:00"),
        ("from", "9999-12-31T23:59:59.999999-14:00"),
        ("to", "1899-12-31"),
    ],
)
def test_a_date_beyond_what_the_books_can_hold_is_refused(
    books: Books, personas: Personas, client_for: ClientFor, param: str, raw: str
) -> None:
    response = client_for(personas.cora).get(ledger("southwark", "transactions"), {param: raw})

    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["field"]) == ("date_out_of_range", param)


def test_the_widest_dates_allowed_list_every_transaction(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    everything = ids(client_for(personas.cora).get(ledger("southwark", "transactions")))

    response = client_for(personas.cora).get(
        ledger("southwark", "transactions"), {"from": "1900-01-01", "to": "9998-12-31"}
    )

    assert response.status_code == 200
    assert ids(response) == everything


# --- Balances ---------------------------------------------------------------------------------


def test_balances_list_every_account_and_total_zero(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    hold = hold_create(member=personas.bob, minutes=20, reference="task-1", actor=None)
    hold_settle(hold=hold, minutes_done=10, helper=None, actor=None)
    hold_create(member=personas.alice, minutes=15, reference="task-2", actor=None)

    response = client_for(personas.cora).get(ledger("southwark", "balances"))

    assert response.status_code == 200
    body = response.json()
    assert body["total_minutes"] == 0
    assert body["count"] == 6
    assert body["next"] is None
    listed = {account["id"]: account for account in body["results"]}
    assert set(listed) == set(
        Account.objects.filter(circle=personas.southwark).values_list("id", flat=True)
    )
    minutes = {(a["kind"], a["member_id"]): a["balance"]["minutes"] for a in body["results"]}
    assert minutes == {
        ("issuance", None): -120,
        ("pot", None): 30,
        ("paid_help", None): 10,
        ("escrow", None): 15,
        ("wallet", personas.alice.pk): 45,
        ("wallet", personas.bob.pk): 20,
    }
    alice = next(a for a in body["results"] if a["member_id"] == personas.alice.pk)
    assert alice["member_name"] == "Alice Archer"
    assert alice["balance"] == {"minutes": 45, "tokens": "0.75"}


def test_balances_page_through_every_account_and_total_them_all(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    """A page holds some accounts; `total_minutes` is every account's, on every page; the
    pages together hold each account once, in order of kind then id."""
    accounts = sorted(Account.objects.filter(circle=personas.southwark).values_list("kind", "id"))
    assert len(accounts) > 2
    client = client_for(personas.cora)
    seen: list[tuple[str, int]] = []
    url: str | None = ledger("southwark", "balances") + "?limit=2"
    while url:
        body = client.get(url).json()
        assert body["count"] == len(accounts)
        assert body["total_minutes"] == 0
        assert len(body["results"]) <= 2
        seen += [(a["kind"], a["id"]) for a in body["results"]]
        url = body["next"]
    assert seen == accounts


def test_balances_total_is_every_accounts_not_the_pages(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    """The total is summed over every account by the database, not over the page: on a page
    of one it is still the books' total (0), not its one account's balance."""
    body = client_for(personas.cora).get(ledger("southwark", "balances") + "?limit=1").json()

    assert len(body["results"]) == 1
    assert body["results"][0]["balance"]["minutes"] != 0
    assert body["total_minutes"] == sum(
        Account.objects.filter(circle=personas.southwark).values_list("balance", flat=True)
    )


@pytest.mark.parametrize("token_minutes", [60, 7, 300])
def test_balances_write_tokens_as_the_rest_of_the_api(
    books: Books, personas: Personas, client_for: ClientFor, token_minutes: int
) -> None:
    """Each balance's tokens are the text `token_quantity` gives everywhere else (halves,
    negatives and a debit too small to show as tokens), and names come back as written."""
    odd = MemberFactory(
        circle=personas.southwark, full_name='Zoë "Q" O\\Brien\t\u0001 😀 \u2028\u2029 end'
    )
    purchase_credit(member=odd, minutes=91, payment_key="p-odd", actor=None)
    Circle.objects.filter(pk=personas.southwark.pk).update(token_minutes=token_minutes)
    personas.southwark.refresh_from_db()

    response = client_for(personas.cora).get(ledger("southwark", "balances"))

    assert response.status_code == 200
    for account in response.json()["results"]:
        expected = token_quantity(account["balance"]["minutes"], circle=personas.southwark)
        assert account["balance"] == expected.as_json()
    names = {a["member_name"] for a in response.json()["results"]}
    assert odd.full_name in names


def test_balances_of_a_circle_with_no_ledger_yet(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.cora).get(ledger("southwark", "balances"))

    assert response.status_code == 200
    assert response.json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
        "total_minutes": 0,
    }


def test_suffolks_balances_hold_only_suffolks_accounts(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    body = client_for(personas.clara).get(ledger("suffolk", "balances")).json()

    assert body["total_minutes"] == 0
    assert {(a["kind"], a["member_id"]) for a in body["results"]} == {
        ("issuance", None),
        ("wallet", personas.sam.pk),
    }


# --- Adjustments ------------------------------------------------------------------------------


def test_coordinator_adjusts_a_wallet(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        ledger("southwark", "adjustments"),
        {"member_id": personas.bob.pk, "minutes": 15, "reason": "helped at the fete"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["kind"] == "adjustment"
    assert available(personas.bob) == 45
    event = AuditEvent.objects.get(data__transaction_id=response.json()["id"])
    assert (event.action, event.actor_id, event.member_id, event.reason) == (
        "tokens.adjusted",
        personas.cora.user_id,
        personas.bob.pk,
        "helped at the fete",
    )


def test_coordinator_takes_minutes_out_of_a_wallet(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        ledger("southwark", "adjustments"),
        {"member_id": personas.bob.pk, "minutes": -30, "reason": "given by mistake"},
        format="json",
    )

    assert response.status_code == 201
    assert available(personas.bob) == 0


def test_adjustment_with_the_same_key_returns_the_first_result(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.cora)
    body = {"member_id": personas.bob.pk, "minutes": 15, "reason": "r", "idempotency_key": "a"}
    first = client.post(ledger("southwark", "adjustments"), body, format="json")
    before = rows()

    again = client.post(ledger("southwark", "adjustments"), body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert rows() == before
    assert available(personas.bob) == 45


def test_two_coordinators_using_the_same_key_each_adjust(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    """Keys belong to the person acting: a second coordinator's "a" is not Cora's, even for the
    same correction (before, Dee was answered with Cora's adjustment and nothing moved)."""
    dee = MemberFactory(
        circle=personas.southwark,
        user=UserFactory(email="dee@example.org", full_name="Dee Coordinator"),
        roles=[RoleName.COORDINATOR],
    )
    body = {"member_id": personas.bob.pk, "minutes": 15, "reason": "r", "idempotency_key": "a"}

    first = client_for(personas.cora).post(ledger("southwark", "adjustments"), body, format="json")
    second = client_for(dee).post(ledger("southwark", "adjustments"), body, format="json")

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert first.json()["id"] != second.json()["id"]
    assert available(personas.bob) == 60
    before = rows()

    again = client_for(dee).post(ledger("southwark", "adjustments"), body, format="json")

    assert (again.status_code, again.json()["id"]) == (200, second.json()["id"])
    assert rows() == before
    assert available(personas.bob) == 60


def test_two_coordinators_reverse_two_transactions_with_the_same_key(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    dee = MemberFactory(
        circle=personas.southwark,
        user=UserFactory(email="dee@example.org", full_name="Dee Coordinator"),
        roles=[RoleName.COORDINATOR],
    )
    cora = client_for(personas.cora)
    one, two = (
        cora.post(
            ledger("southwark", "adjustments"),
            {"member_id": personas.bob.pk, "minutes": minutes, "reason": "r"},
            format="json",
        ).json()["id"]
        for minutes in (5, 10)
    )
    body = {"reason": "entered twice", "idempotency_key": "undo"}

    first = cora.post(reverse_url(one), body, format="json")
    second = client_for(dee).post(reverse_url(two), body, format="json")

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert (first.json()["reverses_id"], second.json()["reverses_id"]) == (one, two)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"member_id": "bob", "minutes": -31, "reason": "r"}, 409, "insufficient_tokens", None),
        ({"member_id": "bob", "minutes": 0, "reason": "r"}, 400, "invalid", "minutes"),
        ({"member_id": "bob", "minutes": 1.5, "reason": "r"}, 400, "invalid", "minutes"),
        ({"member_id": "bob", "minutes": "ten", "reason": "r"}, 400, "invalid", "minutes"),
        ({"member_id": "bob", "reason": "r"}, 400, "required", "minutes"),
        ({"member_id": "bob", "minutes": 10}, 400, "required", "reason"),
        ({"member_id": "bob", "minutes": 10, "reason": "  "}, 400, "blank", "reason"),
        ({"member_id": "sam", "minutes": 10, "reason": "r"}, 400, "member_not_found", "member_id"),
        ({"minutes": 10, "reason": "r"}, 400, "required", "member_id"),
    ],
)
def test_bad_adjustment_is_refused_and_writes_nothing(
    books: Books,
    personas: Personas,
    client_for: ClientFor,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    if "member_id" in body:
        body = {**body, "member_id": getattr(personas, body["member_id"]).pk}
    before = rows(), available(personas.bob), available(personas.sam)

    response = client_for(personas.cora).post(
        ledger("southwark", "adjustments"), body, format="json"
    )

    assert response.status_code == status
    assert (response.json()["code"], response.json().get("field")) == (code, field)
    assert (rows(), available(personas.bob), available(personas.sam)) == before


# --- Grants -----------------------------------------------------------------------------------


def test_coordinator_grants_from_the_pot(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        ledger("southwark", "grants"),
        {"member_id": personas.bob.pk, "minutes": 30, "reason": "hardship"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["kind"] == "grant"
    assert available(personas.bob) == 60
    assert Account.objects.get(pk=account_id("southwark", AccountKind.POT)).balance == 0
    event = AuditEvent.objects.get(data__transaction_id=response.json()["id"])
    assert (event.action, event.reason) == ("tokens.granted", "hardship")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"minutes": 31, "reason": "hardship"}, 409, "insufficient_tokens"),
        ({"minutes": -10, "reason": "hardship"}, 400, "invalid"),
        ({"minutes": 10, "reason": ""}, 400, "blank"),
    ],
)
def test_bad_grant_is_refused_and_writes_nothing(
    books: Books,
    personas: Personas,
    client_for: ClientFor,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = rows(), available(personas.bob)

    response = client_for(personas.cora).post(
        ledger("southwark", "grants"), {"member_id": personas.bob.pk, **body}, format="json"
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    assert (rows(), available(personas.bob)) == before


# --- Reversals --------------------------------------------------------------------------------


def test_coordinator_reverses_a_gift(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        reverse_url(books.gift_to_bob), {"reason": "sent to the wrong Bob"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["reverses_id"]) == ("reversal", books.gift_to_bob)
    assert available(personas.bob) == 0
    assert available(personas.alice) == 90
    event = AuditEvent.objects.get(data__transaction_id=body["id"])
    assert (event.action, event.actor_id, event.reason) == (
        "tokens.reversed",
        personas.cora.user_id,
        "sent to the wrong Bob",
    )


def test_a_second_reversal_is_a_conflict(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.cora)
    client.post(reverse_url(books.gift_to_bob), {"reason": "mistake"}, format="json")
    before = rows()

    response = client.post(reverse_url(books.gift_to_bob), {"reason": "again"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_reversed"
    assert rows() == before
    assert available(personas.alice) == 90


def test_a_reversal_retried_with_its_key_returns_the_first(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.cora)
    body = {"reason": "mistake", "idempotency_key": "rev-1"}
    first = client.post(reverse_url(books.gift_to_bob), body, format="json")
    before = rows()

    again = client.post(reverse_url(books.gift_to_bob), body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert rows() == before


@pytest.mark.parametrize("which", ["hold", "settle", "release", "reversal"])
def test_task_movements_and_reversals_cannot_be_reversed(
    books: Books, personas: Personas, client_for: ClientFor, which: str
) -> None:
    alice = personas.alice
    settled = hold_create(member=alice, minutes=10, reference="task-1", actor=None)
    released = hold_create(member=alice, minutes=10, reference="task-2", actor=None)
    targets = {
        "hold": settled.hold_transaction_id,
        "settle": hold_settle(
            hold=settled, minutes_done=10, helper=personas.hana, actor=None
        ).transaction_id,
        "release": hold_release(hold=released, actor=None).transaction_id,
        "reversal": client_for(personas.cora)
        .post(reverse_url(books.gift_to_pot), {"reason": "r"}, format="json")
        .json()["id"],
    }
    before = rows()

    response = client_for(personas.cora).post(
        reverse_url(targets[which]), {"reason": "undo"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_reversible"
    assert rows() == before


def test_reversal_refused_when_the_tokens_were_spent(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    # Bob gives away the 30 minutes Alice gave him; her gift can no longer be taken back.
    transfer_create(
        source=personas.bob, destination=None, minutes=30, memo="", actor=None, idempotency_key="b"
    )
    before = rows()

    response = client_for(personas.cora).post(
        reverse_url(books.gift_to_bob), {"reason": "mistake"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_tokens"
    assert rows() == before
    assert (available(personas.alice), available(personas.bob)) == (60, 0)


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "r", "minutes": 5}])
def test_reversal_needs_a_reason_and_nothing_else(
    books: Books, personas: Personas, client_for: ClientFor, body: dict[str, Any]
) -> None:
    before = rows()

    response = client_for(personas.cora).post(reverse_url(books.purchase), body, format="json")

    assert response.status_code == 400
    assert rows() == before


def test_reversing_an_unknown_transaction_is_not_found(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        reverse_url(books.suffolk_purchase + 1000), {"reason": "r"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "transaction_not_found"


# --- The audit, from the API ------------------------------------------------------------------


def test_coordinator_runs_the_audit(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).get(ledger("southwark", "audit"))

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["problems"] == []
    assert body["checked_transactions"] == 3


# --- Who may use the books --------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    method: str
    url: Callable[[Books], str]
    body: Callable[[Personas], dict[str, Any]]
    ok: int


def _southwark(what: str) -> Callable[[Books], str]:
    return lambda books: ledger("southwark", what)


ENDPOINTS = [
    Endpoint("transactions", "get", _southwark("transactions"), lambda p: {}, 200),
    Endpoint("balances", "get", _southwark("balances"), lambda p: {}, 200),
    Endpoint("audit", "get", _southwark("audit"), lambda p: {}, 200),
    Endpoint(
        "adjustments",
        "post",
        _southwark("adjustments"),
        lambda p: {"member_id": p.bob.pk, "minutes": 5, "reason": "r"},
        201,
    ),
    Endpoint(
        "grants",
        "post",
        _southwark("grants"),
        lambda p: {"member_id": p.bob.pk, "minutes": 5, "reason": "r"},
        201,
    ),
    Endpoint(
        "reverse", "post", lambda b: reverse_url(b.gift_to_bob), lambda p: {"reason": "r"}, 201
    ),
]

# Southwark's books, asked for by each persona. A transaction id from another circle is "not
# found", like a member of another circle; the circle's own URLs name it, so there it is 403.
WHO = [
    ("anonymous", {}, 401),
    ("alice", {}, 403),
    ("hana", {}, 403),
    ("otto", {}, 403),
    ("clara", {"reverse": 404}, 403),
    ("sam", {"reverse": 404}, 403),
    ("cora", {}, None),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
@pytest.mark.parametrize(("who", "special", "expected"), WHO, ids=[w[0] for w in WHO])
def test_only_the_circles_coordinators_use_its_books(
    books: Books,
    personas: Personas,
    client_for: ClientFor,
    endpoint: Endpoint,
    who: str,
    special: dict[str, int],
    expected: int | None,
) -> None:
    client = client_for(None if who == "anonymous" else getattr(personas, who))
    before = rows()

    response = getattr(client, endpoint.method)(
        endpoint.url(books), endpoint.body(personas), format="json"
    )

    status = special.get(endpoint.name, expected or endpoint.ok)
    assert response.status_code == status
    if status >= 400:
        assert response.json()["code"] in {
            "not_authenticated",
            "forbidden",
            "transaction_not_found",
        }
        assert rows() == before
        # Nothing of Southwark's books leaks into a refusal.
        assert "issuance" not in response.content.decode()


def test_unknown_circle_is_not_found(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.cora).get(ledger("nowhere", "balances"))

    assert response.status_code == 404
    assert response.json()["code"] == "circle_not_found"


# --- ledger_audit, the command ----------------------------------------------------------------


@pytest.fixture
def run_ledger_audit(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """Run `manage.py ledger_audit` as the shell would, and return its exit status."""
    # A command run from the command line closes every connection when it ends; here that
    # connection holds the test's own transaction, which must outlive the command.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*args: str) -> int:
        try:
            execute_from_command_line(["manage.py", "ledger_audit", *args])
        except SystemExit as exit:
            return int(exit.code or 0)
        return 0

    return run


@pytest.fixture
def unguarded() -> Iterator[Callable[[str, list[Any]], None]]:
    """Raw SQL past the ledger's guards, to break the books on purpose. SQLite has no guard on
    an account's balance; PostgreSQL refuses the change in a trigger, so there the table's
    triggers are switched off for the statement (inside the test's transaction, which rolls
    back, so no other test ever sees them off). PostgreSQL will not alter a table with deferred
    checks still pending, so those run first: they pass, the books being sound until now."""

    def run(sql: str, params: list[Any]) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE tokens_account DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE tokens_account ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    return run


def test_ledger_audit_exits_zero_on_clean_books(
    books: Books, capsys: pytest.CaptureFixture[str], run_ledger_audit: Callable[..., int]
) -> None:
    status = run_ledger_audit()

    assert status == 0
    assert "ledger ok: 4 transactions" in capsys.readouterr().out


@pytest.mark.ledger_may_break
def test_ledger_audit_names_a_balance_that_drifted_from_its_entries(
    books: Books,
    personas: Personas,
    capsys: pytest.CaptureFixture[str],
    unguarded: Callable[[str, list[Any]], None],
    run_ledger_audit: Callable[..., int],
) -> None:
    wallet = wallet_id(personas.alice)
    unguarded("UPDATE tokens_account SET balance = balance + 5 WHERE id = %s", [wallet])

    status = run_ledger_audit()

    assert status != 0
    err = capsys.readouterr().err
    assert f"account {wallet} (wallet): balance 65 but entries sum to 60" in err
    assert f"circle {personas.southwark.pk}: books total 5, not 0" in err


@pytest.mark.ledger_may_break
def test_ledger_audit_of_another_circle_is_not_disturbed(
    books: Books,
    personas: Personas,
    capsys: pytest.CaptureFixture[str],
    unguarded: Callable[[str, list[Any]], None],
    run_ledger_audit: Callable[..., int],
) -> None:
    unguarded(
        "UPDATE tokens_account SET balance = balance + 5 WHERE id = %s",
        [wallet_id(personas.alice)],
    )

    assert run_ledger_audit("--circle", "suffolk") == 0
    assert run_ledger_audit("--circle", "southwark") != 0
    assert "PROBLEM" in capsys.readouterr().err


@pytest.mark.ledger_may_break
def test_ledger_audit_names_escrow_that_disagrees_with_open_holds(
    books: Books,
    personas: Personas,
    capsys: pytest.CaptureFixture[str],
    run_ledger_audit: Callable[..., int],
) -> None:
    hold = hold_create(member=personas.alice, minutes=20, reference="task-1", actor=None)
    # Hold rows carry no ledger trigger: a stray update is exactly what the audit must catch.
    Hold.objects.filter(pk=hold.pk).update(minutes=25)

    status = run_ledger_audit()

    assert status != 0
    assert (
        f"circle {personas.southwark.pk}: escrow holds 20 but open holds total 25"
        in capsys.readouterr().err
    )


@pytest.mark.ledger_may_break
def test_the_audit_api_reports_broken_books(
    books: Books,
    personas: Personas,
    client_for: ClientFor,
    unguarded: Callable[[str, list[Any]], None],
) -> None:
    wallet = wallet_id(personas.bob)
    unguarded("UPDATE tokens_account SET balance = balance + 5 WHERE id = %s", [wallet])

    body = client_for(personas.cora).get(ledger("southwark", "audit")).json()
    suffolk = client_for(personas.clara).get(ledger("suffolk", "audit")).json()

    assert body["ok"] is False
    assert f"account {wallet} (wallet): balance 35 but entries sum to 30" in body["problems"]
    assert suffolk["ok"] is True


def test_the_ledger_s_page_is_what_the_transaction_serializer_writes(
    books: Books, personas: Personas, client_for: ClientFor
) -> None:
    """The list builds each transaction's JSON directly; it must stay TransactionOutput's,
    the shape the schema documents and the single-transaction answers use."""
    reversal_create(
        original=LedgerTransaction.objects.get(pk=books.gift_to_bob),
        reason="sent by mistake",
        actor=personas.cora.user,
    )
    response = client_for(personas.cora).get(ledger("southwark", "transactions"))

    expected = TransactionOutput(
        LedgerTransaction.objects.filter(circle=personas.southwark)
        .prefetch_related("entries__account")
        .order_by("-id"),
        many=True,
    ).data
    assert response.json()["results"] == json.loads(json.dumps(expected))
    assert any(tx["reverses_id"] for tx in response.json()["results"])
