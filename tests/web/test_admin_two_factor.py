"""The Django admin (installation staff) behind staff two-factor: no sign-in of its own but
Circle's, and, where STAFF_TWO_FACTOR is required, only a session that gave its code opens it."""

from __future__ import annotations

import pytest
from django.test import Client

from members.models import User
from tests.factories import PASSWORD, UserFactory
from tests.two_factor import next_code, set_up_two_factor

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"


@pytest.fixture
def root() -> User:
    return User.objects.get(
        pk=UserFactory(email="root@example.org", is_staff=True, is_superuser=True).pk
    )


def test_the_admin_signs_in_on_circles_own_page(client: Client) -> None:
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0] == "/sign-in/?next=/admin/"


def test_where_optional_a_superuser_opens_it_with_the_password(
    client: Client, root: User, settings
) -> None:
    settings.STAFF_TWO_FACTOR = "optional"
    client.post("/sign-in/", {"username": "root@example.org", "password": PASSWORD})
    assert client.get(ADMIN).status_code == 200
    assert client.get("/admin/login/").url == ADMIN


def test_where_required_a_superuser_sets_up_an_app_then_gives_a_code(
    client: Client, root: User, settings
) -> None:
    settings.STAFF_TWO_FACTOR = "required"
    client.post("/sign-in/", {"username": "root@example.org", "password": PASSWORD})
    # Signed in with the password alone: no admin, but the set-up, and back after it.
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0] == "/account/two-factor/set-up/?next=%2Fadmin%2F"
    assert response.status_code == 200
    assert client.get("/admin/members/user/").status_code == 302

    device, _codes = set_up_two_factor(root)
    client.post("/sign-out/")
    response = client.post("/sign-in/", {"username": "root@example.org", "password": PASSWORD})
    assert response.url == "/sign-in/code/"
    response = client.post("/sign-in/code/", {"code": next_code(device)})
    assert client.get(ADMIN).status_code == 200
    assert client.get("/admin/members/user/").status_code == 200


def test_a_signed_in_member_is_refused_not_sent_round(client: Client, personas) -> None:
    client.force_login(personas.alice.user)
    assert client.get("/admin/login/").status_code == 403
