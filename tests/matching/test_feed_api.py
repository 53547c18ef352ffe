"""GET /api/v1/helpers/me/tasks/: what the helper's feed costs, and that its JSON stays the
serializer's in summer time as in winter."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpers.models import AvailabilitySlot
from matching.apis import FeedItemOutput
from matching.selectors import helper_feed
from tests.conftest import Personas
from tests.matching.conftest import FEED_URL, book, london

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


def test_the_feed_sends_the_same_statements_for_two_tasks_as_for_six(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    """After the token's sign-in (one statement here): the caller's helper profiles with
    their facts and weekly slots, then their open tasks with the columns shown. Nothing more
    for more tasks (the profiles, each one's facts, the task ids, the tasks themselves and the
    slots were a statement each)."""
    hana = world.hana_helper
    # Available every day: slots to read, and every task passes them.
    AvailabilitySlot.objects.bulk_create(
        AvailabilitySlot(
            circle_id=hana.circle_id, helper=hana, weekday=day, start=time(0), end=time(23, 59)
        )
        for day in range(7)
    )
    client = client_for(world.hana)
    for who in (world.alice, world.bob):
        book(client_for(who), task_body(estimated_minutes=30))

    with CaptureQueriesContext(connection) as two:
        assert client.get(FEED_URL).json()["count"] == 2
    for _ in range(2):
        for who in (world.alice, world.bob):
            book(client_for(who), task_body(estimated_minutes=30))
    with CaptureQueriesContext(connection) as six:
        assert client.get(FEED_URL).json()["count"] == 6

    assert len(two.captured_queries) == len(six.captured_queries) == 3


def test_the_feed_writes_summer_times_as_its_serializer_does(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    """The feed writes each time itself, in the circle's zone as DRF does: +01:00 in summer."""
    with time_machine.travel(datetime(2027, 6, 14, 9, 0, tzinfo=UTC), tick=False):
        book(client_for(world.alice), task_body(title="Summer"))
        response = client_for(world.hana).get(FEED_URL)
        expected = FeedItemOutput(helper_feed(helper=world.hana_helper), many=True).data

    assert response.json()["results"] == json.loads(json.dumps(expected))
    assert response.json()["results"][0]["window_start"].endswith("+01:00")


def test_the_feed_leaves_out_tasks_outside_the_helpers_weekly_slots(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    """Tomorrow 10:00-12:00: a helper free only in the evenings does not see it; free that
    morning too, they do."""
    hana = world.hana_helper
    task = book(client_for(world.alice), task_body())
    tomorrow = london().weekday()
    evenings = [
        AvailabilitySlot(
            circle_id=hana.circle_id, helper=hana, weekday=day, start=time(18), end=time(21)
        )
        for day in range(7)
    ]
    AvailabilitySlot.objects.bulk_create(evenings)
    client = client_for(world.hana)
    assert client.get(FEED_URL).json()["results"] == []

    AvailabilitySlot.objects.create(
        circle_id=hana.circle_id, helper=hana, weekday=tomorrow, start=time(11), end=time(13)
    )
    assert [item["id"] for item in client.get(FEED_URL).json()["results"]] == [task["id"]]
