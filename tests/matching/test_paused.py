"""A helper who paused ("I'm not taking tasks for now", helpers.services.helper_pause_set) is
eligible for nothing: not in the fast or naive matches, not offered when a task is booked, an
empty feed, and accepting answers 403 `helper_paused`. Resuming puts them back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from circle.errors import Forbidden
from helpers.models import Helper
from helpers.services import helper_pause_set
from matching.models import Notice, NoticeKind, Task
from matching.selectors import (
    helper_feed,
    helper_feed_naive,
    helper_ineligibility,
    task_matches,
    task_matches_naive,
)
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import FEED_URL, book, row_counts, task_url
from tests.matching.tasks_factory import helper_near, make_task

pytestmark = pytest.mark.django_db

Client = Callable[[Any], APIClient]


def pause(helper: Helper, paused: bool = True) -> Helper:
    caller = caller_for(user=helper.member.user, circle=helper.circle)
    return helper_pause_set(helper=helper, caller=caller, paused=paused)


def test_a_paused_helper_is_in_no_match_and_no_feed_until_they_resume(
    personas: Personas,
) -> None:
    task = make_task(member=personas.alice, category="gardening")
    helper = pause(helper_near(personas.alice, north_km=1))

    why = helper_ineligibility(task=task, helper=helper)
    assert why is not None
    assert why.code == "helper_paused"
    assert helper.pk not in [r.helper_id for r in task_matches(task=task)]
    assert helper.pk not in [r.helper_id for r in task_matches_naive(task=task)]
    assert helper_feed(helper=helper) == []
    assert helper_feed_naive(helper=helper) == []

    helper = pause(helper, paused=False)

    assert helper_ineligibility(task=task, helper=helper) is None
    assert [r.helper_id for r in task_matches(task=task)] == [helper.pk]
    assert [r.helper_id for r in task_matches_naive(task=task)] == [helper.pk]
    assert [item.task.pk for item in helper_feed(helper=helper)] == [task.pk]


def test_a_paused_helper_is_not_offered_a_booked_task(
    world: Personas,
    client_for: Client,
    task_body: Callable[..., dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    pause(world.hana_helper)
    other = helper_near(world.alice, north_km=2)

    with django_capture_on_commit_callbacks(execute=True):
        task = book(client_for(world.alice), task_body())

    offered = Notice.objects.filter(task_id=task["id"], kind=NoticeKind.TASK_OFFERED)
    assert list(offered.values_list("recipient_id", flat=True)) == [other.member_id]
    cora = client_for(world.cora)
    matches = cora.get(task_url(task["id"], "matches")).json()["results"]
    assert [m["helper_id"] for m in matches] == [other.pk]


def test_a_paused_helper_has_an_empty_feed_and_cannot_accept(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    task = book(client_for(world.alice), task_body())
    hana = client_for(world.hana)
    assert [item["id"] for item in hana.get(FEED_URL).json()["results"]] == [task["id"]]
    pause(world.hana_helper)
    before = row_counts()

    assert hana.get(FEED_URL).json()["results"] == []
    refused = hana.post(task_url(task["id"], "accept"))

    assert refused.status_code == 403
    assert refused.json()["code"] == "helper_paused"
    assert "resume on your profile page" in refused.json()["detail"]
    assert row_counts() == before
    assert Task.objects.get(pk=task["id"]).helper_id is None

    pause(world.hana_helper, paused=False)
    assert hana.post(task_url(task["id"], "accept")).status_code == 200


def test_the_helper_detail_shows_paused(world: Personas, client_for: Client) -> None:
    url = f"/api/v1/helpers/{world.hana_helper.pk}/"
    assert client_for(world.hana).get(url).json()["paused"] is False

    pause(world.hana_helper)

    assert client_for(world.hana).get(url).json()["paused"] is True
    assert client_for(world.cora).get(url).json()["paused"] is True


def test_only_the_helper_or_a_coordinator_pauses_them(world: Personas) -> None:
    for who in (world.alice, world.otto):
        caller = caller_for(user=who.user, circle=world.southwark)
        with pytest.raises(Forbidden):
            helper_pause_set(helper=world.hana_helper, caller=caller, paused=True)
    cora = caller_for(user=world.cora.user, circle=world.southwark)
    assert helper_pause_set(helper=world.hana_helper, caller=cora, paused=True).paused
