"""Recurring tasks over several weeks, with the clock moved: each occurrence its own task and
hold, booked ahead by the periodic job, skipped (and recorded once) when the member cannot pay,
London wall-clock times kept across the change to summer time, and the previous helper offered
the next occurrence first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from matching import tasks
from matching.models import Notice, Task, TaskSeries
from matching.rules import local_zone
from members.models import AuditEvent, Member, MembershipStatus
from tests.conftest import Personas
from tests.matching.conftest import (
    SERIES_URL,
    give_tokens,
    new_helper,
    row_counts,
    task_url,
    tokens_of,
)

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]

# Monday 22 March 2027, 09:00 in London (GMT). Summer time starts on Sunday 28 March.
MONDAY = datetime(2027, 3, 22, 9, 0, tzinfo=local_zone())


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=local_zone())


def series_body(**changes: Any) -> dict[str, Any]:
    body = {
        "category": "gardening",
        "title": "Weekly garden",
        "details": "Back garden",
        # Tuesday 23 March, 10:00-12:00 London.
        "window_start": at(3, 23, 10).isoformat(),
        "window_end": at(3, 23, 12).isoformat(),
        "estimated_minutes": 90,
        "interval_weeks": 1,
    }
    body.update(changes)
    return body


def starts(series_id: int) -> list[datetime]:
    return list(
        Task.objects.filter(series_id=series_id)
        .order_by("window_start")
        .values_list("window_start", flat=True)
    )


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def test_weekly_series_books_three_weeks_ahead_in_london_time(
    world: Personas, client_for: Client, clock: Any
) -> None:
    alice = client_for(world.alice)

    response = alice.post(SERIES_URL, series_body(), format="json")

    assert response.status_code == 201, response.json()
    series = response.json()
    assert (series["weekday"], series["start"], series["end"]) == (1, "10:00", "12:00")
    # 23 and 30 March and 6 April; 13 April is beyond the 21 days ahead.
    assert [s.astimezone(UTC) for s in starts(series["id"])] == [
        datetime(2027, 3, 23, 10, 0, tzinfo=UTC),  # GMT
        datetime(2027, 3, 30, 9, 0, tzinfo=UTC),  # BST: still 10:00 on the garden's clock
        datetime(2027, 4, 6, 9, 0, tzinfo=UTC),
    ]
    assert tokens_of(alice, world.alice) == {"balance": 300, "held": 270, "available": 30}
    counts = row_counts()
    assert tasks.book_series_ahead.delay().get() == 0  # nothing new: a second run is a no-op
    assert row_counts() == counts


def test_an_operator_s_series_by_phone_records_the_call(
    world: Personas, client_for: Client, clock: Any
) -> None:
    body = series_body(member_id=world.alice.pk, call_reference="CALL-77")

    response = client_for(world.otto).post(SERIES_URL, body, format="json")

    assert response.status_code == 201, response.json()
    created = AuditEvent.objects.get(action="task_series.created")
    first = AuditEvent.objects.filter(action="task.booked").order_by("id").first()
    for event in (created, first):
        assert event is not None
        assert (event.member_id, event.actor_id) == (world.alice.pk, world.otto.user_id)
        assert event.call_reference == "CALL-77"


def test_fortnightly_series(world: Personas, client_for: Client, clock: Any) -> None:
    response = client_for(world.alice).post(
        SERIES_URL, series_body(interval_weeks=2), format="json"
    )

    assert response.status_code == 201
    assert [
        s.astimezone(local_zone()).date().isoformat() for s in starts(response.json()["id"])
    ] == [
        "2027-03-23",
        "2027-04-06",
    ]


def test_weeks_pass_the_job_books_skips_and_offers_the_last_helper_first(
    world: Personas,
    client_for: Client,
    clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    ivy = new_helper(world, "Ivy")
    series_id = alice.post(SERIES_URL, series_body(), format="json").json()["id"]
    first = Task.objects.filter(series_id=series_id).order_by("window_start").first()
    assert first is not None

    # Week 1: Hana does the first one.
    clock.move_to(at(3, 23, 10))
    hana.post(task_url(first.pk, "accept"))
    hana.post(task_url(first.pk, "complete"), {"minutes": 60}, format="json")
    alice.post(task_url(first.pk, "confirm"), {}, format="json")
    assert TaskSeries.objects.get(pk=series_id).last_helper_id == world.hana_helper.pk
    # 60 paid to Hana; two occurrences (180) still held; 60 available.
    assert tokens_of(alice, world.alice) == {"balance": 240, "held": 180, "available": 60}

    # A week on, 13 April comes into range, but 90 minutes are more than the 60 available.
    clock.move_to(at(3, 29))
    assert tasks.book_series_ahead.delay().get() == 0
    tasks.book_series_ahead.delay().get()
    skips = AuditEvent.objects.filter(action="task_series.occurrence_skipped")
    assert list(skips.values_list("data__date", "data__code")) == [
        ("2027-04-13", "insufficient_tokens")
    ]  # recorded once, however often the job runs
    assert len(starts(series_id)) == 3

    # Alice buys more; the next run books it, and offers it to Hana alone first.
    give_tokens(world.alice, minutes=120)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.book_series_ahead.delay().get() == 1
    newest = Task.objects.filter(series_id=series_id).order_by("-window_start").first()
    assert newest is not None
    offers = Notice.objects.filter(task=newest, kind="task_offered")
    assert list(offers.values_list("recipient_id", flat=True)) == [world.hana.pk]
    assert tokens_of(alice, world.alice) == {"balance": 360, "held": 270, "available": 90}

    # Nobody accepts within the wave's hour: the general wave follows, to Ivy.
    clock.move_to(at(3, 29, 11))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.offer_waves_due.delay().get()
    assert set(offers.values_list("recipient_id", flat=True)) == {world.hana.pk, ivy.member_id}


def test_a_lapsed_member_s_occurrences_are_skipped_and_recorded(
    world: Personas, client_for: Client, clock: Any
) -> None:
    series_id = client_for(world.alice).post(SERIES_URL, series_body(), format="json").json()["id"]
    Member.objects.filter(pk=world.alice.pk).update(membership_status=MembershipStatus.LAPSED)

    clock.move_to(at(3, 29))
    tasks.book_series_ahead.delay().get()

    assert len(starts(series_id)) == 3
    skip = AuditEvent.objects.get(action="task_series.occurrence_skipped")
    assert skip.data["code"] == "membership_inactive"
    assert skip.member_id == world.alice.pk


def test_ending_a_series_cancels_its_open_occurrences(
    world: Personas, client_for: Client, clock: Any
) -> None:
    alice = client_for(world.alice)
    series_id = alice.post(SERIES_URL, series_body(), format="json").json()["id"]
    first = Task.objects.filter(series_id=series_id).order_by("window_start").first()
    assert first is not None
    client_for(world.hana).post(task_url(first.pk, "accept"))

    response = alice.post(
        f"/api/v1/task-series/{series_id}/end/", {"reason": "Moving"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["active"] is False
    statuses = [t["status"] for t in response.json()["tasks"]]
    assert statuses == ["accepted", "cancelled", "cancelled"]
    assert tokens_of(alice, world.alice)["held"] == 90
    clock.move_to(at(4, 5))
    assert tasks.book_series_ahead.delay().get() == 0
    listed = alice.get(SERIES_URL).json()["results"]
    assert [s["id"] for s in listed] == [series_id]


def test_bad_series_write_nothing(world: Personas, client_for: Client, clock: Any) -> None:
    alice = client_for(world.alice)
    counts = row_counts()

    for changes, code in [
        ({"interval_weeks": 3}, "invalid_choice"),
        ({"window_end": at(3, 24, 12).isoformat()}, "window_invalid"),
        ({"category": "knitting"}, "unknown_category"),
        ({"estimated_minutes": 0}, "estimate_invalid"),
    ]:
        response = alice.post(SERIES_URL, series_body(**changes), format="json")
        assert response.status_code == 400, (changes, response.json())
        assert response.json()["code"] == code, changes
    assert row_counts() == counts


def test_other_circles_cannot_end_a_series(world: Personas, client_for: Client, clock: Any) -> None:
    series_id = client_for(world.alice).post(SERIES_URL, series_body(), format="json").json()["id"]

    response = client_for(world.clara).post(
        f"/api/v1/task-series/{series_id}/end/", {}, format="json"
    )

    assert response.status_code == 404
    assert (
        client_for(world.bob)
        .post(f"/api/v1/task-series/{series_id}/end/", {}, format="json")
        .status_code
        == 403
    )
