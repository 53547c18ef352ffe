"""Who may open the coordinators' desk: its circle's coordinators only."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

DESK = (
    "/coordinator/southwark/",
    "/coordinator/southwark/ledger/",
    "/coordinator/southwark/helpers/",
    "/coordinator/southwark/feedback/",
    "/coordinator/southwark/reports/",
    "/coordinator/southwark/settings/",
)


@pytest.mark.parametrize("path", DESK)
def test_the_desk_asks_a_stranger_to_sign_in(client, personas, path) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")


@pytest.mark.parametrize("path", DESK)
def test_an_operator_is_told_the_desk_is_not_for_them(client, personas, path) -> None:
    client.force_login(personas.otto.user)

    response = client.get(path)

    assert response.status_code == 403


@pytest.mark.parametrize("path", DESK)
def test_another_circles_desk_is_not_found(client, personas, path) -> None:
    client.force_login(personas.cora.user)

    response = client.get(path.replace("southwark", "suffolk"))

    assert response.status_code == 404


@pytest.mark.parametrize("path", DESK)
def test_the_circles_coordinator_opens_every_desk_page(client, personas, path) -> None:
    client.force_login(personas.cora.user)

    response = client.get(path)

    assert response.status_code == 200
