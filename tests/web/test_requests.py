"""A member's request on the pages: where it stands, cancelling it, and saying it was done."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from matching.models import Feedback, Task, TaskStatus
from matching.services import task_accept, task_book, task_complete
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import london, make_active, vet
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of
from tokens.models import Entry, HoldStatus
from tokens.selectors import member_tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas) -> Personas:
    """Alice and Bob active (5 and 2 tokens), Hana vetted; Sam active in Suffolk."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    make_active(personas.bob, by=personas.otto, tokens=2)
    make_active(personas.sam, by=personas.clara, tokens=1)
    vet(personas.hana_helper, by=personas.cora)
    for who in (personas.alice, personas.bob, personas.sam):
        who.refresh_from_db()
    personas.hana_helper.refresh_from_db()
    return personas


def booked(
    world: Personas, *, minutes: int = 90, status: str = TaskStatus.OPEN, until: int = 12
) -> Task:
    """Alice's hedge, tomorrow 10am to 12pm, taken as far as `status` by Hana, as she would."""
    task = task_book(
        member=world.alice,
        caller=caller_for(user=world.alice.user, circle=world.southwark),
        category="gardening",
        title="Trim the hedge",
        details="The front hedge.",
        window_start=london(hour=10),
        window_end=london(hour=until),
        estimated_minutes=minutes,
    ).task
    hana = caller_for(user=world.hana.user, circle=world.southwark)
    if status in (TaskStatus.ACCEPTED, TaskStatus.COMPLETED):
        task_accept(task=task, helper=world.hana_helper, caller=hana)
    if status == TaskStatus.COMPLETED:
        task_complete(task=task, helper=world.hana_helper, caller=hana, minutes=105)
    return Task.objects.get(pk=task.pk)


@pytest.fixture
def alice(client: Client, world: Personas) -> Client:
    client.force_login(world.alice.user)
    return client


def written() -> dict[str, int]:
    return {
        "entries": Entry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "feedback": Feedback.objects.count(),
    }


# --- The request's page -----------------------------------------------------------------------


def test_an_open_request_says_what_when_how_long_and_what_is_set_aside(
    alice: Client, world: Personas
) -> None:
    task = booked(world)
    response = alice.get(f"/my/requests/{task.pk}/")
    assert response.status_code == 200
    words = text_of(response)
    day = london(hour=10)
    assert "Trim the hedge" in words
    assert "Looking for a helper" in words
    assert "We are finding a helper." in words
    assert "Kind of help Gardening" in words
    assert f"When {day:%A} {day.day} {day:%B}, 10am to 12pm" in words
    assert "How long you thought 1 hour 30 minutes" in words
    assert "Set aside 1 hour 30 minutes (1.5 tokens)" in words
    assert "Helper " not in words
    assert f'href="/my/requests/{task.pk}/cancel/"' in response.content.decode()
    assert "Say it has been done" not in words


def test_once_accepted_the_helpers_first_name_shows_and_never_more(
    alice: Client, world: Personas
) -> None:
    task = booked(world, status=TaskStatus.ACCEPTED)
    words = text_of(alice.get(f"/my/requests/{task.pk}/"))
    assert "Hana is coming" in words
    assert "Helper Hana" in words
    assert "Hughes" not in words
    assert world.hana.phone not in words


def test_bob_cannot_see_alices_request(client: Client, world: Personas) -> None:
    task = booked(world)
    client.force_login(world.bob.user)
    for path in ("", "cancel/", "done/"):
        response = client.get(f"/my/requests/{task.pk}/{path}")
        assert response.status_code == 404
        assert "Trim the hedge" not in text_of(response)


def test_suffolks_sam_sees_nothing_of_southwark(client: Client, world: Personas) -> None:
    task = booked(world)
    client.force_login(world.sam.user)
    response = client.get(f"/my/requests/{task.pk}/")
    assert response.status_code == 404
    assert "Trim the hedge" not in text_of(response)
    assert "Southwark" not in text_of(response)


def test_the_helper_and_staff_have_no_member_page_for_it(client: Client, world: Personas) -> None:
    task = booked(world, status=TaskStatus.ACCEPTED)
    for who in (world.hana, world.otto):
        client.force_login(who.user)
        response = client.get(f"/my/requests/{task.pk}/")
        assert response.status_code in (403, 404)
        assert "Trim the hedge" not in text_of(response)


def test_a_request_that_does_not_exist_is_page_not_found(alice: Client, world: Personas) -> None:
    assert alice.get("/my/requests/999999/").status_code == 404


@pytest.mark.parametrize("others", [0, 30])
def test_the_request_page_reads_a_fixed_number_of_queries(
    alice: Client, world: Personas, others: int, django_assert_max_num_queries: Any
) -> None:
    for _ in range(others):
        make_task(member=world.alice, status=TaskStatus.SETTLED, helper=world.hana_helper)
    task = booked(world, status=TaskStatus.COMPLETED)
    with django_assert_max_num_queries(14):
        assert alice.get(f"/my/requests/{task.pk}/").status_code == 200
    with django_assert_max_num_queries(14):
        assert alice.get(f"/my/requests/{task.pk}/done/").status_code == 200


# --- Cancelling -------------------------------------------------------------------------------


def test_cancel_page_asks_to_be_sure_and_says_the_tokens_come_back(
    alice: Client, world: Personas
) -> None:
    task = booked(world)
    response = alice.get(f"/my/requests/{task.pk}/cancel/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Cancel this request?" in words
    assert "The 1 hour 30 minutes (1.5 tokens) set aside will come back to you." in words
    assert "Why are you cancelling? (optional)" in words
    assert "Yes, cancel it" in words
    assert "No, keep it" in words


def test_cancelling_releases_the_hold_and_keeps_the_reason(alice: Client, world: Personas) -> None:
    task = booked(world)
    response = alice.post(f"/my/requests/{task.pk}/cancel/", {"reason": "My son did it."})
    assert response["Location"] == f"/my/requests/{task.pk}/"
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert task.cancel_reason == "My son did it."
    assert task.hold.status == HoldStatus.RELEASED
    assert member_tokens(member=world.alice).available == 300
    words = text_of(alice.get(response["Location"]))
    assert "Your request is cancelled. The 1 hour 30 minutes (1.5 tokens) set aside is back" in (
        words
    )
    assert "Cancelled" in words
    assert "Cancel this request" not in words


def test_cancelling_without_a_reason_is_fine(alice: Client, world: Personas) -> None:
    task = booked(world)
    alice.post(f"/my/requests/{task.pk}/cancel/", {"reason": ""})
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert task.cancel_reason == "The member cancelled it on the website and gave no reason."


def test_cancelling_an_accepted_request_warns_the_helper_will_be_told(
    alice: Client, world: Personas
) -> None:
    task = booked(world, status=TaskStatus.ACCEPTED)
    words = text_of(alice.get(f"/my/requests/{task.pk}/cancel/"))
    assert "Hana has said they will come. We will tell Hana not to." in words


def test_a_reason_too_long_is_refused_and_nothing_is_written(
    alice: Client, world: Personas
) -> None:
    task = booked(world)
    before = written()
    response = alice.post(f"/my/requests/{task.pk}/cancel/", {"reason": "x" * 501})
    assert response.status_code == 200
    assert "Use 500 characters or fewer." in text_of(response)
    assert written() == before
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_done_request_cannot_be_cancelled(alice: Client, world: Personas) -> None:
    task = booked(world, status=TaskStatus.COMPLETED)
    before = written()
    assert alice.get(f"/my/requests/{task.pk}/cancel/")["Location"] == f"/my/requests/{task.pk}/"
    alice.post(f"/my/requests/{task.pk}/cancel/", {"reason": "x"})
    assert written() == before
    assert "Cancel this request" not in text_of(alice.get(f"/my/requests/{task.pk}/"))


def test_bob_cannot_cancel_alices_request(client: Client, world: Personas) -> None:
    task = booked(world)
    client.force_login(world.bob.user)
    before = written()
    assert client.post(f"/my/requests/{task.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert written() == before


# --- It's been done ---------------------------------------------------------------------------


def test_a_done_request_asks_her_to_say_so(alice: Client, world: Personas) -> None:
    task = booked(world, minutes=180, status=TaskStatus.COMPLETED, until=13)
    words = text_of(alice.get(f"/my/requests/{task.pk}/"))
    assert "Done: please confirm" in words
    assert "Hana says the job is done." in words
    assert "Say it has been done" in words
    response = alice.get(f"/my/requests/{task.pk}/done/")
    words = text_of(response)
    assert "Has the job been done?" in words
    assert "Hana says the job took 1 hour 45 minutes." in words
    assert "You will pay 2 hours (2 tokens)." in words
    assert "The rest of the 3 hours (3 tokens) set aside comes back to you." in words
    assert "How was Hana's help? (optional)" in words
    for rating in ("Excellent", "Good", "All right", "Not very good", "Poor"):
        assert rating in words


def test_saying_it_was_done_pays_records_the_rating_and_says_what_came_back(
    alice: Client, world: Personas
) -> None:
    task = booked(world, minutes=180, status=TaskStatus.COMPLETED, until=13)
    response = alice.post(
        f"/my/requests/{task.pk}/done/", {"rating": "5", "comment": "Lovely job."}
    )
    assert response["Location"] == f"/my/requests/{task.pk}/"
    task.refresh_from_db()
    assert task.status == TaskStatus.SETTLED
    assert task.minutes_settled == 120
    feedback = Feedback.objects.get(task=task)
    assert (feedback.rating, feedback.comment, feedback.given_by) == (
        5,
        "Lovely job.",
        world.alice.user,
    )
    assert member_tokens(member=world.alice).available == 300 - 120
    words = text_of(alice.get(response["Location"]))
    assert (
        "Thank you. 2 hours (2 tokens) paid for Hana's help. 1 hour (1 token) came back to you."
        in words
    )
    assert "What it cost" in words
    assert "Hana said the job took 1 hour 45 minutes." in words
    assert "Time is counted in blocks of 30 minutes, so that is 2 hours (2 tokens)." in words
    assert "You paid 2 hours (2 tokens)." in words
    assert "1 hour (1 token) of what was set aside came back to you." in words
    assert "Finished" in words


def test_a_job_that_ran_over_says_the_extra_came_from_her_tokens(
    alice: Client, world: Personas
) -> None:
    task = booked(world, minutes=60, status=TaskStatus.COMPLETED)
    assert "That is more than was set aside" in text_of(alice.get(f"/my/requests/{task.pk}/done/"))
    alice.post(f"/my/requests/{task.pk}/done/", {})
    words = text_of(alice.get(f"/my/requests/{task.pk}/"))
    assert "That was 1 hour (1 token) more than was set aside, so it came from your tokens." in (
        words
    )
    assert not Feedback.objects.exists()


def test_a_rating_not_offered_is_refused_and_nothing_is_written(
    alice: Client, world: Personas
) -> None:
    task = booked(world, status=TaskStatus.COMPLETED)
    before = written()
    response = alice.post(f"/my/requests/{task.pk}/done/", {"rating": "9"})
    assert response.status_code == 200
    assert '<a href="#id_rating">Choose one of the answers listed.</a>' in (
        response.content.decode()
    )
    assert written() == before
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_a_request_not_done_yet_cannot_be_confirmed(alice: Client, world: Personas) -> None:
    task = booked(world, status=TaskStatus.ACCEPTED)
    before = written()
    assert alice.get(f"/my/requests/{task.pk}/done/")["Location"] == f"/my/requests/{task.pk}/"
    alice.post(f"/my/requests/{task.pk}/done/", {"rating": "5"})
    assert written() == before


def test_sam_cannot_confirm_alices_request(client: Client, world: Personas) -> None:
    task = booked(world, status=TaskStatus.COMPLETED)
    client.force_login(world.sam.user)
    before = written()
    assert client.post(f"/my/requests/{task.pk}/done/", {"rating": "1"}).status_code == 404
    assert written() == before


def test_an_expired_request_says_no_helper_was_free(alice: Client, world: Personas) -> None:
    task = booked(world)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.EXPIRED)
    words = text_of(alice.get(f"/my/requests/{task.pk}/"))
    assert "No helper was free" in words
    assert "Cancel this request" not in words


def test_a_member_of_two_circles_sees_a_request_only_in_its_circle(
    client: Client, world: Personas
) -> None:
    task = booked(world)
    # Alice also belongs to Suffolk, and chose it.
    suffolk_alice = Member.objects.create(
        circle=world.suffolk,
        user=world.alice.user,
        full_name="Alice Archer",
        phone="+447700900111",
        date_of_birth=world.alice.date_of_birth,
        address_line1="1 Quay",
        postcode="IP4 1AA",
    )
    suffolk_alice.roles.create(circle=world.suffolk, role="member")
    client.force_login(world.alice.user)
    session = client.session
    session["member_id"] = suffolk_alice.pk
    session.save()
    assert client.get(f"/my/requests/{task.pk}/").status_code == 404
