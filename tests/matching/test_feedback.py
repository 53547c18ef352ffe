"""Feedback given on confirming a task: stored, and seen by the circle's coordinators only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Personas
from tests.matching.conftest import book, row_counts, task_url

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


def _done(world: Personas, client_for: Client, task_body: Body) -> dict[str, Any]:
    task = book(client_for(world.alice), task_body())
    hana = client_for(world.hana)
    hana.post(task_url(task["id"], "accept"))
    hana.post(task_url(task["id"], "complete"), {"minutes": 60}, format="json")
    return task


def test_coordinators_read_feedback_and_nobody_else_does(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = _done(world, client_for, task_body)
    client_for(world.alice).post(
        task_url(task["id"], "confirm"),
        {"feedback": {"rating": 2, "comment": "Late and rushed"}},
        format="json",
    )
    url = "/api/v1/circles/southwark/feedback/"

    response = client_for(world.cora).get(url)

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert (row["task_id"], row["helper_id"], row["rating"], row["comment"]) == (
        task["id"],
        world.hana_helper.pk,
        2,
        "Late and rushed",
    )
    for who in (world.alice, world.hana, world.otto, world.clara):
        assert client_for(who).get(url).status_code == 403
    # The task itself never shows the feedback, to the helper or anyone.
    assert "Late and rushed" not in str(client_for(world.hana).get(task_url(task["id"])).json())
    assert client_for(world.clara).get("/api/v1/circles/suffolk/feedback/").json()["count"] == 0


def test_a_bad_rating_refuses_the_confirmation_and_settles_nothing(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = _done(world, client_for, task_body)
    counts = row_counts()

    response = client_for(world.alice).post(
        task_url(task["id"], "confirm"), {"feedback": {"rating": 9}}, format="json"
    )

    assert response.status_code == 400
    assert row_counts() == counts


def test_confirming_without_feedback_stores_none(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = _done(world, client_for, task_body)
    counts = row_counts()

    client_for(world.otto).post(task_url(task["id"], "confirm"), {}, format="json")

    assert row_counts()["feedback"] == counts["feedback"]
