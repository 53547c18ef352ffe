"""Staff who also help never confirm their own work: confirming a task settles its hold into
the helper's wallet, so an operator who did the task would be paying themselves (DESIGN.md:
"Staff never act on their own member record's tokens or payments")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from members.models import RoleName
from members.services import role_grant
from tests.conftest import Personas
from tests.factories import HelperFactory
from tests.matching.conftest import book, task_url, vet
from tokens.selectors import member_tokens

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


def test_an_operator_who_helps_cannot_confirm_the_task_they_did(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    role_grant(member=world.otto, role=RoleName.HELPER)
    vet(HelperFactory(member=world.otto), by=world.cora)
    otto, alice = client_for(world.otto), client_for(world.alice)
    task = book(alice, task_body())
    assert otto.post(task_url(task["id"], "accept")).status_code == 200
    otto.post(task_url(task["id"], "complete"), {"minutes": 90}, format="json")

    response = otto.post(task_url(task["id"], "confirm"), {}, format="json")

    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "own_record"
    assert member_tokens(member=world.otto).balance == 0
    # The member (or other staff) confirms as usual.
    assert alice.post(task_url(task["id"], "confirm"), {}, format="json").status_code == 200
    assert member_tokens(member=world.otto).balance == 90
