"""GET /api/v1/members/{id}/: the member themself and their circle's staff see the profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import Member
from tests.conftest import Personas
from tests.factories import MemberFactory

ClientFor = Callable[[Any], APIClient]


def detail(client: APIClient, member_id: int | str) -> Any:
    return client.get(f"/api/v1/members/{member_id}/")


def test_member_sees_their_own_profile(personas: Personas, client_for: ClientFor) -> None:
    response = detail(client_for(personas.alice), personas.alice.pk)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == personas.alice.pk
    assert body["full_name"] == "Alice Archer"
    assert body["email"] == "alice@example.org"
    assert body["phone"] == "+447700900001"
    assert body["postcode"] == "SE1 2AA"
    assert body["circle"] == "southwark"
    assert body["roles"] == ["member"]
    assert body["membership"] == {"status": "pending", "paid_until": None}
    assert body["has_login"] is True
    assert body["helper_id"] is None


def test_helper_sees_her_own_profile_with_helper_id(
    personas: Personas, client_for: ClientFor
) -> None:
    response = detail(client_for(personas.hana), personas.hana.pk)
    assert response.status_code == 200
    assert response.json()["roles"] == ["helper"]
    assert response.json()["helper_id"] == personas.hana_helper.pk


@pytest.mark.parametrize(("who", "whom"), [("bob", "alice"), ("alice", "bob"), ("hana", "alice")])
def test_another_member_of_the_circle_is_forbidden(
    personas: Personas, client_for: ClientFor, who: str, whom: str
) -> None:
    response = detail(client_for(getattr(personas, who)), getattr(personas, whom).pk)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "Archer" not in response.content.decode()


@pytest.mark.parametrize("staff", ["otto", "cora"])
def test_circle_staff_see_any_member(personas: Personas, client_for: ClientFor, staff: str) -> None:
    for member in (personas.alice, personas.hana):
        response = detail(client_for(getattr(personas, staff)), member.pk)
        assert response.status_code == 200
        assert response.json()["id"] == member.pk


def test_staff_see_a_phone_only_member(personas: Personas, client_for: ClientFor) -> None:
    caller = MemberFactory(circle=personas.southwark, user=None, full_name="Phil Phone")
    response = detail(client_for(personas.otto), caller.pk)
    assert response.status_code == 200
    assert response.json()["has_login"] is False
    assert response.json()["email"] is None


@pytest.mark.parametrize("who", ["clara", "sam"])
def test_another_circles_people_get_not_found(
    personas: Personas, client_for: ClientFor, who: str
) -> None:
    response = detail(client_for(getattr(personas, who)), personas.alice.pk)
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
    assert "Alice" not in response.content.decode()


def test_other_circle_not_found_looks_like_an_unknown_id(
    personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.clara)
    unknown = Member.objects.order_by("-pk").first()
    assert unknown is not None
    theirs = detail(client, personas.alice.pk)
    missing = detail(client, unknown.pk + 1000)
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())


def test_suffolk_coordinator_sees_her_own_circles_member(
    personas: Personas, client_for: ClientFor
) -> None:
    response = detail(client_for(personas.clara), personas.sam.pk)
    assert response.status_code == 200
    assert response.json()["circle"] == "suffolk"


def test_person_in_both_circles_is_staff_only_where_they_hold_the_role(
    personas: Personas, client_for: ClientFor
) -> None:
    # Clara joins Southwark as a plain member: she sees herself there, not Alice.
    mine = MemberFactory(circle=personas.southwark, user=personas.clara.user)
    client = client_for(personas.clara)
    assert detail(client, mine.pk).status_code == 200
    response = detail(client, personas.alice.pk)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_anonymous_is_401(personas: Personas, client_for: ClientFor) -> None:
    response = detail(client_for(None), personas.alice.pk)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_bad_token_is_401(personas: Personas) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = detail(client, personas.alice.pk)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_unknown_id_is_404(personas: Personas, client_for: ClientFor) -> None:
    response = detail(client_for(personas.otto), 987654321)
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"


@pytest.mark.parametrize("member_id", ["abc", "-1", "1.5", "99999999999999999999999"])
def test_malformed_id_is_a_json_404(
    personas: Personas, client_for: ClientFor, member_id: str
) -> None:
    response = detail(client_for(personas.otto), member_id)
    assert response.status_code == 404
    assert response.json()["code"] in {"not_found", "member_not_found"}
