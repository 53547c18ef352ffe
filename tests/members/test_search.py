"""GET /api/v1/circles/{slug}/members/?q=: staff find a caller by name, phone or postcode."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from members.apis import MemberOutput
from members.models import Member, Role, RoleName
from members.selectors import caller_for, member_search
from payments.services.offline import offline_payment_record
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.members.conftest import join_url

ClientFor = Callable[[Any], APIClient]


@pytest.fixture
def neighbours(personas: Personas) -> dict[str, Member]:
    """Southwark people whose postcodes sit next to the ones searched for: SE1 must not find
    SE10 or SE15, and sector SE1 2 must not find district SE12."""
    made = {
        "greenwich": MemberFactory(
            circle=personas.southwark, full_name="Gwen Greenwich", postcode="SE10 9AA"
        ),
        "lee": MemberFactory(
            circle=personas.southwark, full_name="Lee Leeming", postcode="SE12 8AA"
        ),
        "waterloo": MemberFactory(
            circle=personas.southwark, full_name="Walter Loo", postcode="SE1 7PB"
        ),
        "phone_only": MemberFactory(
            circle=personas.southwark,
            user=None,
            full_name="Mary Ann Smith",
            phone="+442079460018",
            postcode="SE1 2AB",
        ),
    }
    return made


def search(client: APIClient, q: str | None = None, slug: str = "southwark", **params: Any) -> Any:
    query = dict(params)
    if q is not None:
        query["q"] = q
    return client.get(join_url(slug), query)


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["full_name"] for row in response.json()["results"]]


# --- By name --------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["Alice", "alice", "ALI", "lice", "  alice  ", "rcher"])
def test_search_by_partial_name_ignores_case(
    personas: Personas, client_for: ClientFor, q: str
) -> None:
    assert names(search(client_for(personas.otto), q)) == ["Alice Archer"]


@pytest.mark.parametrize("q", ["alice archer", "Archer Alice", "ali arch", "Alice  Archer"])
def test_search_by_two_words_needs_both(personas: Personas, client_for: ClientFor, q: str) -> None:
    assert names(search(client_for(personas.otto), q)) == ["Alice Archer"]


def test_search_by_two_words_finds_nobody_when_one_word_does_not_match(
    personas: Personas, client_for: ClientFor
) -> None:
    assert names(search(client_for(personas.otto), "alice baker")) == []


def test_search_by_name_finds_everyone_who_matches_in_name_order(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member]
) -> None:
    # "er" is in Alice Archer, Bob Baker, Otto Operator, Gwen Greenwich... but not Hana Hughes.
    found = names(search(client_for(personas.cora), "er"))
    assert found == sorted(found)
    assert "Alice Archer" in found
    assert "Bob Baker" in found
    assert "Hana Hughes" not in found


def test_search_finds_a_phone_only_member_by_name(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member]
) -> None:
    response = search(client_for(personas.otto), "mary smith")
    assert names(response) == ["Mary Ann Smith"]
    row = response.json()["results"][0]
    assert row["has_login"] is False
    assert row["id"] == neighbours["phone_only"].pk


# --- By phone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "07700 900001",
        "+44 7700 900 001",
        "07700900001",
        "(07700) 900-001",
        "+447700900001",
        "0044 7700 900001",
        "07700.900.001",
        "+44 (0)7700 900001",
    ],
)
def test_search_by_phone_in_any_spacing(personas: Personas, client_for: ClientFor, q: str) -> None:
    assert names(search(client_for(personas.otto), q)) == ["Alice Archer"]


def test_search_by_landline(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member]
) -> None:
    for q in ("020 7946 0018", "02079460018", "+44 20 7946 0018"):
        assert names(search(client_for(personas.otto), q)) == ["Mary Ann Smith"], q


def test_search_by_the_end_of_a_phone_number(personas: Personas, client_for: ClientFor) -> None:
    # Callers often give the last digits; Bob's number ends 900002.
    assert names(search(client_for(personas.otto), "900 002")) == ["Bob Baker"]


def test_search_by_a_different_phone_finds_nobody(
    personas: Personas, client_for: ClientFor
) -> None:
    assert names(search(client_for(personas.otto), "07700 900009")) == []


# --- By postcode ----------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["se12aa", "SE1 2AA", "se1 2aa", " SE1  2AA "])
def test_search_by_full_postcode(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member], q: str
) -> None:
    # Alice, Cora and Otto live at SE1 2AA; not Mary (SE1 2AB) nor Lee (SE12 8AA).
    assert names(search(client_for(personas.otto), q)) == [
        "Alice Archer",
        "Cora Coordinator",
        "Otto Operator",
    ]


@pytest.mark.parametrize("q", ["SE1", "se1", " se1 "])
def test_search_by_district_does_not_match_longer_districts(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member], q: str
) -> None:
    found = names(search(client_for(personas.otto), q))
    assert found == [
        "Alice Archer",
        "Cora Coordinator",
        "Mary Ann Smith",
        "Otto Operator",
        "Walter Loo",
    ]
    assert "Gwen Greenwich" not in found  # SE10
    assert "Hana Hughes" not in found  # SE15
    assert "Lee Leeming" not in found  # SE12


def test_search_by_other_district(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member]
) -> None:
    assert names(search(client_for(personas.otto), "se15")) == ["Hana Hughes"]
    assert names(search(client_for(personas.otto), "SE12")) == ["Lee Leeming"]


@pytest.mark.parametrize("q", ["SE1 2", "se1 2", " SE1  2 "])
def test_search_by_sector(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member], q: str
) -> None:
    # Sector SE1 2 holds Alice, Cora, Otto (SE1 2AA) and Mary (SE1 2AB), not Walter (SE1 7PB);
    # Lee's SE12 is another district.
    assert names(search(client_for(personas.otto), q)) == [
        "Alice Archer",
        "Cora Coordinator",
        "Mary Ann Smith",
        "Otto Operator",
    ]


def test_search_by_sector_with_unusual_district(personas: Personas, client_for: ClientFor) -> None:
    MemberFactory(circle=personas.southwark, full_name="Wanda Wharf", postcode="SE1 7PB")
    MemberFactory(circle=personas.southwark, full_name="Wes Lambeth", postcode="SE17 1AA")
    assert names(search(client_for(personas.otto), "SE1 7")) == ["Wanda Wharf"]
    assert names(search(client_for(personas.otto), "SE17")) == ["Wes Lambeth"]


# --- Listing and paging ---------------------------------------------------------------------


@pytest.mark.parametrize("q", [None, "", "   "])
def test_empty_query_lists_every_member_of_the_circle_paginated(
    personas: Personas, client_for: ClientFor, q: str | None
) -> None:
    response = search(client_for(personas.otto), q)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5
    assert body["next"] is None
    assert body["previous"] is None
    assert [row["full_name"] for row in body["results"]] == [
        "Alice Archer",
        "Bob Baker",
        "Cora Coordinator",
        "Hana Hughes",
        "Otto Operator",
    ]


def test_search_results_page_with_limit_and_offset(
    personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.otto)
    first = search(client, "", limit=2)
    assert first.json()["count"] == 5
    assert names(first) == ["Alice Archer", "Bob Baker"]
    assert first.json()["previous"] is None
    assert first.json()["next"] is not None

    last = client.get(first.json()["next"].replace("offset=2", "offset=4"))
    assert names(last) == ["Otto Operator"]
    assert last.json()["next"] is None


def test_search_rows_are_member_profiles(personas: Personas, client_for: ClientFor) -> None:
    row = search(client_for(personas.otto), "hana").json()["results"][0]
    assert row["id"] == personas.hana.pk
    assert row["roles"] == ["helper"]
    assert row["helper_id"] == personas.hana_helper.pk
    assert row["phone"] == "+447700900003"
    assert row["postcode"] == "SE15 4AA"
    assert row["membership"] == {"status": "pending", "paid_until": None}


@pytest.mark.parametrize(
    "q",
    ["%", "_", "'; DROP TABLE members_member; --", "a" * 1000, "\u00e9", "((((", "+", "0", "\\"],
)
def test_odd_queries_never_fail(personas: Personas, client_for: ClientFor, q: str) -> None:
    response = search(client_for(personas.otto), q)
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_query_with_nul_character_is_a_400(personas: Personas, client_for: ClientFor) -> None:
    # PostgreSQL cannot hold NUL in a string parameter; it must be refused, not a 500.
    response = search(client_for(personas.otto), "ali\x00ce")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["field"] == "q"


def test_wildcards_are_matched_literally(personas: Personas, client_for: ClientFor) -> None:
    MemberFactory(circle=personas.southwark, full_name="Percy 100% Pike")
    assert names(search(client_for(personas.otto), "100%")) == ["Percy 100% Pike"]
    assert names(search(client_for(personas.otto), "%")) == ["Percy 100% Pike"]


# --- Who may search -------------------------------------------------------------------------


def test_anonymous_search_is_401(personas: Personas, client_for: ClientFor) -> None:
    response = search(client_for(None), "alice")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("who", ["alice", "hana"])
def test_members_and_helpers_cannot_search(
    personas: Personas, client_for: ClientFor, who: str
) -> None:
    response = search(client_for(getattr(personas, who)), "alice")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("who", ["otto", "cora"])
def test_staff_can_search(personas: Personas, client_for: ClientFor, who: str) -> None:
    assert names(search(client_for(getattr(personas, who)), "bob")) == ["Bob Baker"]


def test_other_circle_coordinator_cannot_search_here(
    personas: Personas, client_for: ClientFor
) -> None:
    response = search(client_for(personas.clara), "")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "results" not in response.json()
    assert "Alice" not in response.content.decode()


def test_other_circle_search_never_returns_our_members(
    personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.clara)
    everyone = search(client, "", slug="suffolk")
    assert names(everyone) == ["Clara Coordinator", "Sam Smith"]
    for q in ("alice", "07700 900001", "SE1", "se12aa", "SE1 2", "a"):
        found = search(client, q, slug="suffolk")
        assert "Alice Archer" not in names(found), q


def test_our_search_never_returns_another_circles_members(
    personas: Personas, client_for: ClientFor
) -> None:
    for q in ("sam", "IP4", "IP4 1AA", "Smith", ""):
        assert "Sam Smith" not in names(search(client_for(personas.cora), q)), q


def test_search_of_unknown_circle_is_404(personas: Personas, client_for: ClientFor) -> None:
    response = search(client_for(personas.otto), "alice", slug="atlantis")
    assert response.status_code == 404
    assert response.json()["code"] == "circle_not_found"


# --- What each result shows -----------------------------------------------------------------


def test_search_shows_each_members_paid_until_with_the_same_queries_for_any_page_size(
    personas: Personas, client_for: ClientFor
) -> None:
    """Each result's membership `paid_until` is read for the whole page at once: a search that
    finds six members sends as many statements as one that finds a single member."""
    staff = caller_for(user=personas.otto.user, circle=personas.southwark)
    found = [
        MemberFactory(circle=personas.southwark, full_name=f"Pat Paidup{i}", postcode="SE1 2AA")
        for i in range(6)
    ]
    for i, member in enumerate(found[:3]):
        offline_payment_record(
            member=member, caller=staff, purpose="membership", method="cash", reference=f"C{i}"
        )
    client = client_for(personas.otto)

    with CaptureQueriesContext(connection) as one:
        response = search(client, "Paidup0")
    assert names(response) == ["Pat Paidup0"]
    with CaptureQueriesContext(connection) as six:
        response = search(client, "Paidup")

    paid = {row["full_name"]: row["membership"]["paid_until"] for row in response.json()["results"]}
    assert len(paid) == 6
    assert all(paid[f"Pat Paidup{i}"] is not None for i in range(3))
    assert all(paid[f"Pat Paidup{i}"] is None for i in range(3, 6))
    assert len(six.captured_queries) == len(one.captured_queries)


def test_a_short_page_counts_itself_and_a_full_page_asks_for_the_count(
    personas: Personas, client_for: Any
) -> None:
    """A page shorter than the limit holds the rest of the list, so its count is known
    without a COUNT; a full page, or an empty page past the end, still asks the database.
    The answers are the same either way."""
    for i in range(3):
        MemberFactory(circle=personas.southwark, full_name=f"Pat Shortpage{i}")
    client = client_for(personas.otto)

    with CaptureQueriesContext(connection) as short:
        response = search(client, "Shortpage")
    assert response.json()["count"] == 3
    assert response.json()["next"] is None
    assert not any("COUNT(" in q["sql"] for q in short.captured_queries)

    with CaptureQueriesContext(connection) as full:
        first = search(client, "Shortpage", limit=2).json()
    assert (first["count"], len(first["results"])) == (3, 2)
    assert "offset=2" in first["next"]
    assert any("COUNT(" in q["sql"] for q in full.captured_queries)

    rest = search(client, "Shortpage", limit=2, offset=2).json()
    assert (rest["count"], len(rest["results"])) == (3, 1)
    assert rest["next"] is None
    assert rest["previous"] is not None
    beyond = search(client, "Shortpage", limit=2, offset=5).json()
    assert (beyond["count"], beyond["results"]) == (3, [])


# --- What the list costs --------------------------------------------------------------------


def test_search_rows_are_what_the_member_serializer_writes(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member]
) -> None:
    """The list builds each member's JSON directly from one statement; it must stay
    MemberOutput's, the shape the schema documents: roles in their order, the last paid day,
    the helper profile, a member without a login, email or date of birth."""
    staff = caller_for(user=personas.otto.user, circle=personas.southwark)
    offline_payment_record(
        member=personas.alice, caller=staff, purpose="membership", method="cash", reference="C1"
    )
    for role in (RoleName.HELPER, RoleName.COORDINATOR):
        Role.objects.create(circle=personas.southwark, member=personas.otto, role=role)
    MemberFactory(circle=personas.southwark, user=None, full_name="Nell Noone", date_of_birth=None)

    response = search(client_for(personas.otto), "", limit=100)

    everyone = member_search(circle=personas.southwark, query="")
    expected = MemberOutput(everyone.select_related("circle", "helper"), many=True).data
    assert response.json()["results"] == json.loads(json.dumps(expected))
    rows = {row["full_name"]: row for row in response.json()["results"]}
    assert rows["Otto Operator"]["roles"] == ["helper", "operator", "coordinator"]
    assert rows["Alice Archer"]["membership"]["paid_until"] is not None
    assert rows["Hana Hughes"]["helper_id"] == personas.hana_helper.pk
    assert rows["Nell Noone"]["email"] is None
    assert rows["Nell Noone"]["date_of_birth"] is None
    assert rows["Nell Noone"]["has_login"] is False


@pytest.mark.parametrize(
    "q", ["Alice", "ali arch", "07700 900001", "SE1", "SE1 2", "SE1 7P", "se1 7pb", "100%", "\\"]
)
def test_the_api_finds_whom_the_console_finds(
    personas: Personas, client_for: ClientFor, neighbours: dict[str, Member], q: str
) -> None:
    """The API's list and the console's (`member_search`) read the same terms of the text,
    each in its own statement: they find the same members in the same order."""
    MemberFactory(circle=personas.southwark, full_name="Percy 100% Pike")
    console = member_search(circle=personas.southwark, query=q, listing=True)
    found = search(client_for(personas.otto), q, limit=100).json()["results"]
    assert [row["id"] for row in found] == [member.pk for member in console]


def test_search_reads_the_caller_circle_and_page_in_three_statements_after_sign_in(
    personas: Personas, client_for: ClientFor
) -> None:
    """After the token's sign-in (one statement here, where staff two-factor is optional):
    the circle named by the address, the caller's record and roles in it, then the
    page with each member's roles, last paid day and helper profile; a full page then asks for
    the count. Nothing more, whatever the page holds (each member read the circle and the
    helper profile by a join once)."""
    for i in range(4):
        MemberFactory(circle=personas.southwark, full_name=f"Pat Counted{i}")
    client = client_for(personas.otto)
    with CaptureQueriesContext(connection) as short:
        assert len(search(client, "Counted").json()["results"]) == 4
    with CaptureQueriesContext(connection) as full:
        assert search(client, "Counted", limit=2).json()["count"] == 4
    assert len(short.captured_queries) == 4
    assert len(full.captured_queries) == 5
