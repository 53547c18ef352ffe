"""GET /api/v1/me/: who is signed in and what they are in each circle."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from members.models import Member, MembershipStatus, RoleName
from tests.api.checks import assert_error
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory, UserFactory

ME_URL = "/api/v1/me/"

ClientFor = Callable[[Member | None], APIClient]


def test_me_shows_the_member_in_their_circle(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.alice).get(ME_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "alice@example.org"
    assert body["full_name"] == "Alice Archer"
    assert body["circles"] == [
        {
            "circle": "southwark",
            "circle_name": "Southwark Circle",
            "member_id": personas.alice.pk,
            "roles": ["member"],
            "membership": {"status": "pending", "paid_until": None},
            "helper_id": None,
        }
    ]


def test_me_shows_a_helpers_helper_id(personas: Personas, client_for: ClientFor) -> None:
    body = client_for(personas.hana).get(ME_URL).json()

    (circle,) = body["circles"]
    assert circle["roles"] == ["helper"]
    assert circle["helper_id"] == personas.hana_helper.pk


def test_me_shows_staff_roles(personas: Personas, client_for: ClientFor) -> None:
    assert client_for(personas.cora).get(ME_URL).json()["circles"][0]["roles"] == ["coordinator"]
    assert client_for(personas.otto).get(ME_URL).json()["circles"][0]["roles"] == ["operator"]


def test_me_lists_every_circle_of_a_person_in_two(
    personas: Personas, client_for: ClientFor
) -> None:
    # Alice also helps in Suffolk, where her membership is active.
    in_suffolk = MemberFactory(
        circle=personas.suffolk,
        user=personas.alice.user,
        roles=[RoleName.MEMBER, RoleName.HELPER],
        postcode="IP4 1AA",
        membership_status=MembershipStatus.ACTIVE,
    )
    suffolk_helper = HelperFactory(member=in_suffolk)

    body = client_for(personas.alice).get(ME_URL).json()

    by_circle = {entry["circle"]: entry for entry in body["circles"]}
    assert set(by_circle) == {"southwark", "suffolk"}
    assert by_circle["southwark"]["member_id"] == personas.alice.pk
    assert by_circle["southwark"]["roles"] == ["member"]
    assert by_circle["southwark"]["membership"]["status"] == "pending"
    assert by_circle["southwark"]["helper_id"] is None
    assert by_circle["suffolk"]["member_id"] == in_suffolk.pk
    assert by_circle["suffolk"]["roles"] == ["member", "helper"]
    assert by_circle["suffolk"]["membership"]["status"] == "active"
    assert by_circle["suffolk"]["helper_id"] == suffolk_helper.pk


def test_me_shows_nothing_of_other_peoples_circles(
    personas: Personas, client_for: ClientFor
) -> None:
    body = client_for(personas.sam).get(ME_URL).json()

    assert [entry["circle"] for entry in body["circles"]] == ["suffolk"]
    assert body["circles"][0]["member_id"] == personas.sam.pk


def test_me_for_a_login_with_no_circle_is_an_empty_list(
    personas: Personas, client_for: ClientFor
) -> None:
    user = UserFactory(email="newcomer@example.org")

    body = client_for(user).get(ME_URL).json()

    assert body["email"] == "newcomer@example.org"
    assert body["circles"] == []


def test_me_anonymous_is_401(personas: Personas, api: APIClient) -> None:
    assert_error(api.get(ME_URL), 401, "not_authenticated")
