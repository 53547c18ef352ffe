"""A task on the helpers' pages: what shows before and after accepting, accepting in one tap,
losing the race in plain words, "I've done it" with the billing shown first, and handing it
back with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from matching.models import PreferenceKind, Task, TaskStatus
from matching.services import task_accept, task_cancel
from members.models import AuditEvent
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import new_helper
from tests.matching.tasks_factory import word
from tests.web import helper_world
from tests.web.helper_world import book, take, written
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

# The shared fixtures (tests/web/helper_world.py).
hana = helper_world.hana
world = helper_world.world


def url(task: Task, action: str = "") -> str:
    return f"/helper/tasks/{task.pk}/" + (f"{action}/" if action else "")


# --- Before accepting -------------------------------------------------------------------------


def test_before_accepting_the_district_distance_window_and_details_never_the_address(
    hana: Client, world: Personas
) -> None:
    task = book(world.alice)
    response = hana.get(url(task))
    assert response.status_code == 200
    words = text_of(response)
    html = response.content.decode()
    assert "Trim the hedge" in words
    assert "Where SE1, 0.0 km away" in words
    assert "10am to 12pm" in words
    assert "How long 1 hour 30 minutes" in words
    assert "About the job The front hedge, about 5 m." in words
    assert "What it is worth You earn about 1 hour 30 minutes (1.5 tokens)" in words
    assert "Accept this task" in words
    assert f'action="{url(task, "accept")}"' in html
    assert "Alice" not in words
    assert world.alice.address_line1 not in words
    assert world.alice.phone not in html
    assert "tel:+4477" not in html


def test_another_circles_task_is_not_found(hana: Client, world: Personas) -> None:
    task = book(world.sam, minutes=60)
    for action in ("", "accept", "done", "hand-back"):
        assert hana.get(url(task, action)).status_code == 404
    assert hana.post(url(task, "accept")).status_code == 404
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_task_not_in_the_feed_is_not_found(hana: Client, world: Personas) -> None:
    lifts = book(world.alice, title="Drive me", category="lifts")  # enhanced vetting
    blocked = book(world.bob, minutes=60)
    word(world.bob, world.hana_helper, PreferenceKind.BLOCKED)
    before = written()
    for task, said in (
        (lifts, "This kind of help needs more checks than you have had so far."),
        (blocked, "This task is not one you can take."),
    ):
        assert hana.get(url(task)).status_code == 404
        # Trying to accept one is told why not, as the API's 403 is, and shows nothing of it.
        refused = hana.post(url(task, "accept"))
        assert refused.status_code == 200
        assert said in text_of(refused)
        assert task.title not in text_of(refused)
        assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN
    assert written() == before


def test_someone_elses_task_in_hand_is_not_found(hana: Client, world: Personas) -> None:
    ivy = new_helper(world, "Ivy")
    task = book(world.alice)
    task_accept(task=task, helper=ivy, caller=caller_for(user=ivy.member.user, circle=task.circle))
    assert hana.get(url(task)).status_code == 404


# --- Accepting --------------------------------------------------------------------------------


def test_accepting_in_one_tap_shows_the_name_address_and_phone(
    hana: Client, world: Personas
) -> None:
    task = book(world.alice)
    response = hana.post(url(task, "accept"))
    assert response.status_code == 302
    assert response["Location"] == url(task)
    task.refresh_from_db()
    assert (task.status, task.helper_id) == (TaskStatus.ACCEPTED, world.hana_helper.pk)

    page = hana.get(url(task))
    words = text_of(page)
    html = page.content.decode()
    assert "You have accepted it. We will tell Alice you are coming." in words
    assert "Who Alice" in words
    assert "Archer" not in words
    assert f"Address {world.alice.address_line1} SE1 2AA" in words
    assert 'href="tel:+447700900001"' in html
    assert "Call Alice on 07700 900001" in words
    assert "I\u2019ve done it" in words
    assert "I can\u2019t do it after all" in words
    assert "Accept this task" not in words


def test_accepting_twice_is_harmless(hana: Client, world: Personas) -> None:
    task = book(world.alice)
    hana.post(url(task, "accept"))
    before = written()
    response = hana.post(url(task, "accept"))
    assert response.status_code == 302
    assert written() == before


def test_a_get_of_accept_writes_nothing(hana: Client, world: Personas) -> None:
    task = book(world.alice)
    before = written()
    response = hana.get(url(task, "accept"))
    assert (response.status_code, response["Location"]) == (302, url(task))
    assert written() == before


def test_when_someone_was_quicker_the_helper_reads_it_plainly(
    hana: Client, world: Personas
) -> None:
    ivy = new_helper(world, "Ivy")
    task = book(world.alice)
    hana.get(url(task))  # Hana is looking at it...
    task_accept(task=task, helper=ivy, caller=caller_for(user=ivy.member.user, circle=task.circle))
    before = written()

    response = hana.post(url(task, "accept"))  # ...and taps a moment too late

    assert response.status_code == 200
    words = text_of(response)
    assert "Someone else has just taken this" in words
    assert "See other tasks near you" in words
    assert world.alice.address_line1 not in words
    assert written() == before
    assert Task.objects.get(pk=task.pk).helper_id == ivy.pk


def test_a_helper_no_longer_eligible_is_told_in_plain_words(hana: Client, world: Personas) -> None:
    task = book(world.alice)
    take(task, world, status=TaskStatus.ACCEPTED)
    hana.post(url(task, "hand-back"), {"reason": "My car broke down"})
    word(world.alice, world.hana_helper, PreferenceKind.BLOCKED)
    before = written()

    response = hana.post(url(task, "accept"))

    assert response.status_code == 200
    assert "This task is not one you can take." in text_of(response)
    assert written() == before


def test_a_cancelled_task_says_so_to_the_helper_who_had_it(hana: Client, world: Personas) -> None:
    task = book(world.alice)
    take(task, world, status=TaskStatus.ACCEPTED)
    task_cancel(
        task=task,
        caller=caller_for(user=world.alice.user, circle=task.circle),
        reason="My son did it",
    )
    response = hana.get(url(task))
    assert response.status_code == 200
    words = text_of(response)
    assert "The member has cancelled this task, so nobody needs to go." in words
    assert world.alice.address_line1 not in words
    assert hana.post(url(task, "accept")).status_code == 200
    assert "The member has cancelled this task." in text_of(hana.post(url(task, "accept")))


# --- I've done it -----------------------------------------------------------------------------


def test_done_shows_the_billing_before_anything_is_written(hana: Client, world: Personas) -> None:
    task = take(book(world.alice), world, status=TaskStatus.ACCEPTED)
    assert hana.get(url(task, "done")).status_code == 200
    before = written()

    check = hana.post(url(task, "done"), {"minutes": "40"})

    assert check.status_code == 200
    words = text_of(check)
    assert "You did 40 minutes; this is billed as 1 hour (1 token)." in words
    assert "Time is counted in blocks of 30 minutes, so it is rounded up to 1 hour." in words
    assert "Confirm it is done" in words
    assert written() == before

    confirmed = hana.post(url(task, "done"), {"minutes": "40", "confirmed": "True"})

    assert (confirmed.status_code, confirmed["Location"]) == (302, url(task))
    task.refresh_from_db()
    assert (task.status, task.minutes_reported, task.minutes_billed) == (
        TaskStatus.COMPLETED,
        40,
        60,
    )
    page = text_of(hana.get(url(task)))
    assert "Thank you. We have asked Alice to confirm it." in page
    assert "You said it took 40 minutes. It is billed as 1 hour (1 token)." in page
    assert "Waiting for confirmation" in page
    assert world.alice.address_line1 in page  # still theirs, until confirmed


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        ("", "Enter how many minutes the job took."),
        ("forty", "Enter the minutes as a number, like 45."),
        ("0", "Enter at least 1 minute."),
        ("721", "Enter 720 minutes or fewer. If it took longer, call us."),
    ],
)
def test_done_with_bad_minutes_writes_nothing(
    hana: Client, world: Personas, minutes: str, said: str
) -> None:
    task = take(book(world.alice), world, status=TaskStatus.ACCEPTED)
    before = written()
    for data in ({"minutes": minutes}, {"minutes": minutes, "confirmed": "True"}):
        response = hana.post(url(task, "done"), data)
        assert response.status_code == 200
        words = text_of(response)
        assert "There is a problem" in words
        assert said in words
        assert written() == before


def test_only_its_helper_reports_it_done(client: Client, world: Personas) -> None:
    ivy = new_helper(world, "Ivy")
    task = take(book(world.alice), world, status=TaskStatus.ACCEPTED)
    client.force_login(ivy.member.user)
    before = written()
    for action in ("done", "hand-back"):
        assert client.get(url(task, action)).status_code == 404
        assert (
            client.post(
                url(task, action), {"minutes": "40", "confirmed": "True", "reason": "x"}
            ).status_code
            == 404
        )
    assert written() == before


def test_done_on_an_open_task_is_not_found(hana: Client, world: Personas) -> None:
    task = book(world.alice)
    assert hana.post(url(task, "done"), {"minutes": "40", "confirmed": "True"}).status_code == 404


def test_a_settled_task_says_where_it_stands_and_what_was_earned(
    hana: Client, world: Personas
) -> None:
    task = take(book(world.alice), world, status=TaskStatus.SETTLED, minutes=40)
    words = text_of(hana.get(url(task)))
    assert "Finished" in words
    assert "You earned 1 hour (1 token)." in words
    assert world.alice.address_line1 not in words
    assert "I\u2019ve done it" not in words
    # Done again: back to its page, nothing written.
    before = written()
    response = hana.post(url(task, "done"), {"minutes": "40", "confirmed": "True"})
    assert (response.status_code, response["Location"]) == (302, url(task))
    assert written() == before


# --- I can't do it after all ------------------------------------------------------------------


def test_handing_back_needs_a_reason_and_writes_nothing_without_one(
    hana: Client, world: Personas
) -> None:
    task = take(book(world.alice), world, status=TaskStatus.ACCEPTED)
    assert hana.get(url(task, "hand-back")).status_code == 200
    before = written()
    response = hana.post(url(task, "hand-back"), {"reason": "   "})
    assert response.status_code == 200
    assert "Say why you cannot do it." in text_of(response)
    assert written() == before


def test_handing_back_with_a_reason_offers_the_task_again(
    hana: Client,
    world: Personas,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ivy = new_helper(world, "Ivy")
    task = take(book(world.alice), world, status=TaskStatus.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        response = hana.post(url(task, "hand-back"), {"reason": "My car broke down"})
    assert (response.status_code, response["Location"]) == (302, "/helper/")
    task.refresh_from_db()
    assert (task.status, task.helper_id) == (TaskStatus.OPEN, None)
    event = AuditEvent.objects.get(action="task.handed_back")
    assert event.reason == "My car broke down"
    assert task.notices.filter(recipient=ivy.member, kind="task_offered").exists()
    feed = text_of(hana.get("/helper/"))
    assert "You have handed back “Trim the hedge”. We will offer it to other helpers." in feed
    # She may still read it (she once had it), without the address.
    page = text_of(hana.get(url(task)))
    assert world.alice.address_line1 not in page
