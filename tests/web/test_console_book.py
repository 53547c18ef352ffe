"""Booking help for a caller from the console, on one page then a check step, and cancelling or
confirming one of their requests, each with the call reference in the audit log and on the
member's own "What staff have done for you" page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circle.words import LONDON
from matching.models import Feedback, HelperPreference, Task, TaskStatus
from matching.services import task_accept, task_book, task_complete
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import london, make_active, vet
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of
from tokens.models import Entry, Hold, LedgerTransaction
from tokens.selectors import member_tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas) -> Personas:
    """Alice active with 5 tokens, whom Hana (vetted) helped before; Bob active with 1 token;
    Sam active in Suffolk."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    make_active(personas.bob, by=personas.otto, tokens=1)
    make_active(personas.sam, by=personas.clara, tokens=2)
    vet(personas.hana_helper, by=personas.cora)
    make_task(
        member=personas.alice,
        status=TaskStatus.SETTLED,
        helper=personas.hana_helper,
        start=timezone.now() - timedelta(days=7),
    )
    for who in (personas.alice, personas.bob, personas.sam, personas.hana_helper):
        who.refresh_from_db()
    return personas


@pytest.fixture
def otto(client: Client, world: Personas) -> Client:
    client.force_login(world.otto.user)
    return client


def tomorrow() -> date:
    return timezone.localdate(timezone=LONDON) + timedelta(days=1)


def book_url(member: Member, slug: str = "southwark") -> str:
    return f"/console/{slug}/members/{member.pk}/book/"


def answers(**changes: str) -> dict[str, str]:
    body = {
        "key": "k" * 32,
        "call_reference": "CALL-42",
        "category": "gardening",
        "title": "Trim the hedge",
        "details": "The front hedge.\nShears in the shed.",
        "day": tomorrow().isoformat(),
        "start": "10:00",
        "end": "12:00",
        "minutes": "90",
        "helper": "none",
    }
    body.update(changes)
    return body


def counts() -> dict[str, int]:
    return {
        "tasks": Task.objects.count(),
        "holds": Hold.objects.count(),
        "transactions": LedgerTransaction.objects.count(),
        "audit": AuditEvent.objects.count(),
        "preferences": HelperPreference.objects.count(),
    }


def hidden(response: Any) -> dict[str, str]:
    """The check step's form, as the browser would send it back."""
    page = response.content.decode()
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page))


# --- Who may book -----------------------------------------------------------------------------


def test_members_and_helpers_may_not_book_for_anyone(client: Client, world: Personas) -> None:
    before = counts()
    for who in (world.alice, world.bob, world.hana):
        client.force_login(who.user)
        assert client.get(book_url(world.alice)).status_code == 403
        response = client.post(book_url(world.alice), answers(action="book"))
        assert response.status_code == 403
    assert counts() == before


def test_another_circles_member_is_page_not_found(otto: Client, world: Personas) -> None:
    before = counts()
    assert otto.get(book_url(world.sam)).status_code == 404
    assert otto.post(book_url(world.sam), answers(action="book")).status_code == 404
    assert counts() == before


# --- The one page -----------------------------------------------------------------------------


def test_every_question_is_on_one_page(otto: Client, world: Personas) -> None:
    response = otto.get(book_url(world.alice))
    assert response.status_code == 200
    words = text_of(response)
    for label in (
        "Call reference",
        "Kind of help",
        "The job, in a few words",
        "Anything else the helper should know (optional)",
        "Day",
        "From",
        "Until",
        "How long",
        "Helper to ask first",
    ):
        assert label in words
    assert "Gardening" in words
    assert f"Tomorrow: {tomorrow():%A} {tomorrow().day} {tomorrow():%B}" in words
    assert "1 hour 30 minutes (1.5 tokens)" in words
    assert "Hana" in words
    assert "5 hours (5 tokens) available" in words
    assert re.search(r'name="key" value="[0-9a-f]{32}"', response.content.decode())


def test_without_helpers_they_know_there_is_no_helper_question(
    otto: Client, world: Personas
) -> None:
    assert "Helper to ask first" not in text_of(otto.get(book_url(world.bob)))


def test_check_step_shows_the_booking_and_what_is_set_aside_and_writes_nothing(
    otto: Client, world: Personas
) -> None:
    before = counts()
    response = otto.post(book_url(world.alice), answers(action="check"))
    assert response.status_code == 200
    words = text_of(response)
    day = tomorrow()
    assert "Check the booking" in words
    assert "Call reference CALL-42" in words
    assert "Kind of help Gardening" in words
    assert "The job Trim the hedge The front hedge." in words
    assert f"When {day:%A} {day.day} {day:%B}, 10am to 12pm" in words
    assert "How long 1 hour 30 minutes" in words
    assert "Helper to ask first No preference" in words
    assert (
        "Booking sets aside 1 hour 30 minutes (1.5 tokens) of Alice's tokens until the job is "
        "done. Alice has 5 hours (5 tokens) available." in words
    )
    assert counts() == before
    sent = hidden(response)
    assert sent["key"] == "k" * 32
    assert sent["day"] == day.isoformat()


def test_booking_holds_the_tokens_once_however_often_the_button_is_pressed(
    otto: Client, world: Personas
) -> None:
    check = otto.post(book_url(world.alice), answers(action="check"))
    body = {**hidden(check), "action": "book"}
    first = otto.post(book_url(world.alice), body)
    again = otto.post(book_url(world.alice), body)
    card = f"/console/southwark/members/{world.alice.pk}/"
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == card
    task = Task.objects.get(title="Trim the hedge")
    assert task.member == world.alice
    assert task.booked_by == world.otto.user
    assert task.details == "The front hedge.\nShears in the shed."
    assert task.window_start == london(hour=10)
    assert task.estimated_minutes == 90
    assert Hold.objects.filter(member=world.alice, minutes=90).count() == 1
    assert member_tokens(member=world.alice).held == 90
    event = AuditEvent.objects.get(action="task.booked")
    assert event.actor == world.otto.user
    assert event.member == world.alice
    assert event.call_reference == "CALL-42"
    words = text_of(otto.get(card))
    assert "Help is booked for Alice Archer" in words or "already booked" in words
    assert "Booked help Otto Operator Call CALL-42" in words


def test_the_card_says_what_was_booked(otto: Client, world: Personas) -> None:
    check = otto.post(book_url(world.alice), answers(action="check"))
    response = otto.post(book_url(world.alice), {**hidden(check), "action": "book"}, follow=True)
    words = text_of(response)
    assert "Help is booked for Alice Archer: “Trim the hedge”" in words
    assert "1 hour 30 minutes (1.5 tokens) is set aside." in words
    assert "Trim the hedge" in words


def test_change_the_booking_shows_the_form_again_as_filled(otto: Client, world: Personas) -> None:
    check = otto.post(book_url(world.alice), answers(action="check"))
    response = otto.post(book_url(world.alice), {**hidden(check), "action": "edit"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Trim the hedge"' in page
    assert 'value="k' in page
    assert '<option value="gardening" selected>' in page


def test_a_helper_chosen_becomes_the_members_preference_with_the_call(
    otto: Client, world: Personas
) -> None:
    body = answers(action="check", helper=str(world.hana_helper.pk))
    check = otto.post(book_url(world.alice), body)
    assert "Hana becomes Alice's preferred helper" in text_of(check)
    otto.post(book_url(world.alice), {**hidden(check), "action": "book"})
    assert HelperPreference.objects.get(member=world.alice).helper == world.hana_helper
    event = AuditEvent.objects.get(action="helper.preferred")
    assert event.call_reference == "CALL-42"


# --- Refusals: nothing written ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"call_reference": ""}, "Enter the call reference, or the date and time of the call."),
        ({"category": ""}, "Choose the kind of help you need."),
        ({"category": "juggling"}, "Choose one of the kinds of help listed."),
        ({"title": ""}, "Say in a few words what the job is."),
        ({"day": ""}, "Choose the day you would like help."),
        ({"start": "12:00", "end": "10:00"}, "Choose a time after the time it starts."),
        ({"minutes": "180"}, "The job must fit between 10am and 12pm, which is 2 hours."),
        ({"minutes": ""}, "Choose how long you think the job will take."),
    ],
)
@pytest.mark.parametrize("action", ["check", "book"])
def test_a_bad_answer_shows_the_error_and_writes_nothing(
    otto: Client, world: Personas, changes: dict[str, str], message: str, action: str
) -> None:
    before = counts()
    response = otto.post(book_url(world.alice), answers(action=action, **changes))
    assert response.status_code == 200
    words = text_of(response)
    assert words.startswith("Error:")
    assert "There is a problem" in words
    assert message in words
    assert "Check the booking" in words  # the form's button: the form again
    assert counts() == before


def test_a_time_today_that_has_passed_is_refused(otto: Client, world: Personas) -> None:
    now = timezone.localtime(timezone.now(), LONDON)
    if now.hour < 8:
        pytest.skip("needs a time today that has passed")
    before = counts()
    response = otto.post(
        book_url(world.alice),
        answers(
            action="book", day=now.date().isoformat(), start="07:00", end="07:30", minutes="30"
        ),
    )
    assert "That time has already passed today." in text_of(response)
    assert counts() == before


def test_too_few_tokens_show_no_book_button_and_the_service_refuses(
    otto: Client, world: Personas
) -> None:
    before = counts()
    check = otto.post(book_url(world.bob), answers(action="check", minutes="120"))
    words = text_of(check)
    assert (
        "Bob does not have enough tokens for this. It needs 2 hours (2 tokens) and Bob has "
        "1 hour (1 token) available." in words
    )
    assert "Record a payment for tokens" in words
    assert 'value="book"' not in check.content.decode()
    # The button pressed anyway (a page kept open while the tokens were spent): refused.
    response = otto.post(book_url(world.bob), answers(action="book", minutes="120"))
    assert response.status_code == 200
    words = text_of(response)
    assert words.startswith("Error:")
    assert "Bob does not have enough tokens for this now." in words
    assert f"/console/southwark/members/{world.bob.pk}/payments/new/" in response.content.decode()
    assert counts() == before


def test_a_lapsed_member_cannot_be_booked_for(otto: Client, world: Personas) -> None:
    Member.objects.filter(pk=world.alice.pk).update(membership_status="lapsed")
    before = counts()
    page = text_of(otto.get(book_url(world.alice)))
    assert "Alice's membership is not paid up, so they cannot ask for help" in page
    assert "Check the booking" not in page
    response = otto.post(book_url(world.alice), answers(action="book"))
    words = text_of(response)
    assert response.status_code == 200
    assert words.startswith("Error:")
    assert "Alice's membership is lapsed, so they cannot ask for help until it is paid." in words
    assert counts() == before


def test_a_key_already_used_for_another_booking_is_told_plainly(
    otto: Client, world: Personas
) -> None:
    otto.post(book_url(world.alice), answers(action="book"))
    before = counts()
    response = otto.post(book_url(world.alice), answers(action="book", title="Mow the lawn"))
    assert "This page has booked help already." in text_of(response)
    assert counts() == before


@pytest.mark.parametrize("others", [0, 10])
def test_the_booking_pages_read_a_fixed_number_of_queries(
    otto: Client, world: Personas, others: int, django_assert_max_num_queries: Any
) -> None:
    for _ in range(others):
        make_task(member=world.alice, status=TaskStatus.SETTLED, helper=world.hana_helper)
    with django_assert_max_num_queries(11):
        assert otto.get(book_url(world.alice)).status_code == 200
    with django_assert_max_num_queries(11):
        assert otto.post(book_url(world.alice), answers(action="check")).status_code == 200


# --- Cancel and confirm -----------------------------------------------------------------------


def booked(world: Personas, *, status: str = TaskStatus.OPEN, member: Member | None = None) -> Task:
    who = member or world.alice
    task = task_book(
        member=who,
        caller=caller_for(user=who.user, circle=who.circle),
        category="gardening",
        title="Trim the hedge",
        window_start=london(hour=10),
        window_end=london(hour=12),
        estimated_minutes=90 if who.circle == world.southwark else 60,
    ).task
    if status in (TaskStatus.ACCEPTED, TaskStatus.COMPLETED):
        hana = caller_for(user=world.hana.user, circle=world.southwark)
        task_accept(task=task, helper=world.hana_helper, caller=hana)
        if status == TaskStatus.COMPLETED:
            task_complete(task=task, helper=world.hana_helper, caller=hana, minutes=60)
    return Task.objects.get(pk=task.pk)


def request_url(member: Member, task: Task, action: str, slug: str = "southwark") -> str:
    return f"/console/{slug}/members/{member.pk}/requests/{task.pk}/{action}/"


def test_cancelling_releases_the_hold_with_the_reason_and_the_call(
    otto: Client, world: Personas
) -> None:
    task = booked(world, status=TaskStatus.ACCEPTED)
    page = otto.get(request_url(world.alice, task, "cancel"))
    assert page.status_code == 200
    assert "Hana has said they will come. We will tell Hana not to." in text_of(page)
    response = otto.post(
        request_url(world.alice, task, "cancel"),
        {"call_reference": "CALL-5", "reason": "Her son will do it."},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert member_tokens(member=world.alice).held == 0
    event = AuditEvent.objects.get(action="task.cancelled")
    assert (event.actor, event.reason, event.call_reference) == (
        world.otto.user,
        "Her son will do it.",
        "CALL-5",
    )
    words = text_of(otto.get(response["Location"]))
    assert (
        "“Trim the hedge” is cancelled. 1 hour 30 minutes (1.5 tokens) is back with Alice." in words
    )
    assert "Cancelled a request Otto Operator Call CALL-5 Her son will do it." in words


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"call_reference": "", "reason": "No longer needed"}, "Enter the call reference"),
        ({"call_reference": "CALL-5", "reason": ""}, "Say why the request is cancelled."),
    ],
)
def test_cancelling_needs_the_call_and_a_reason(
    otto: Client, world: Personas, body: dict[str, str], message: str
) -> None:
    task = booked(world)
    before = Entry.objects.count(), AuditEvent.objects.count()
    response = otto.post(request_url(world.alice, task, "cancel"), body)
    assert response.status_code == 200
    assert message in text_of(response)
    assert (Entry.objects.count(), AuditEvent.objects.count()) == before
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_confirming_settles_with_the_members_rating_words_and_the_call(
    otto: Client, world: Personas
) -> None:
    task = booked(world, status=TaskStatus.COMPLETED)
    page = otto.get(request_url(world.alice, task, "confirm"))
    assert page.status_code == 200
    words = text_of(page)
    assert "Hana says the job took 1 hour." in words
    assert "How was Hana's help? (optional)" in words
    response = otto.post(
        request_url(world.alice, task, "confirm"),
        {"call_reference": "CALL-6", "rating": "5", "comment": "Lovely and tidy."},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.SETTLED
    feedback = Feedback.objects.get(task=task)
    assert (feedback.rating, feedback.comment, feedback.given_by) == (
        5,
        "Lovely and tidy.",
        world.otto.user,
    )
    event = AuditEvent.objects.get(action="task.settled")
    assert (event.actor, event.call_reference) == (world.otto.user, "CALL-6")
    assert member_tokens(member=world.alice).held == 0
    words = text_of(otto.get(response["Location"]))
    assert "“Trim the hedge” is confirmed as done, and Hana's help is paid for." in words


def test_confirming_needs_the_call_reference(otto: Client, world: Personas) -> None:
    task = booked(world, status=TaskStatus.COMPLETED)
    before = Entry.objects.count(), AuditEvent.objects.count()
    response = otto.post(request_url(world.alice, task, "confirm"), {"rating": "5"})
    assert response.status_code == 200
    assert "Enter the call reference" in text_of(response)
    assert (Entry.objects.count(), AuditEvent.objects.count()) == before


def test_a_request_not_done_yet_cannot_be_confirmed(otto: Client, world: Personas) -> None:
    task = booked(world)
    response = otto.post(request_url(world.alice, task, "confirm"), {"call_reference": "C"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_other_members_and_circles_tasks_are_page_not_found(otto: Client, world: Personas) -> None:
    alices = booked(world)
    sams = booked(world, member=world.sam)
    for action in ("cancel", "confirm"):
        # Alice's task under Bob's card; Sam's task under Alice's and under his own.
        assert otto.get(request_url(world.bob, alices, action)).status_code == 404
        assert otto.get(request_url(world.alice, sams, action)).status_code == 404
        assert otto.get(request_url(world.sam, sams, action)).status_code == 404
        assert otto.get(request_url(world.sam, sams, action, "suffolk")).status_code == 404
    response = otto.post(
        request_url(world.sam, sams, "cancel"), {"call_reference": "C", "reason": "x"}
    )
    assert response.status_code == 404
    sams.refresh_from_db()
    assert sams.status == TaskStatus.OPEN


def test_members_cannot_use_the_consoles_cancel(client: Client, world: Personas) -> None:
    task = booked(world)
    client.force_login(world.alice.user)
    response = client.post(
        request_url(world.alice, task, "cancel"), {"call_reference": "C", "reason": "x"}
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


# --- What the member reads --------------------------------------------------------------------


def test_the_member_reads_each_action_with_the_call_on_her_on_my_behalf_page(
    client: Client, world: Personas
) -> None:
    client.force_login(world.otto.user)
    client.post(book_url(world.alice), answers(action="book", call_reference="CALL-1"))
    task = Task.objects.get(title="Trim the hedge")
    client.post(
        request_url(world.alice, task, "cancel"),
        {"call_reference": "CALL-2", "reason": "Not needed now."},
    )
    client.force_login(world.alice.user)
    words = text_of(client.get("/my/on-my-behalf/"))
    assert "Asked for help for you Otto Operator Call CALL-1" in words
    assert "Cancelled a request Otto Operator Not needed now. Call CALL-2" in words
