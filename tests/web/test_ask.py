"""Asking for help on the pages: one question a page, the answers in the session, "Check your
answers", and one button that books it once."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from circle.words import LONDON
from matching.models import HelperPreference, PreferenceKind, Task, TaskSeries, TaskStatus
from matching.services import task_book
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import give_tokens, london, make_active, vet
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of
from tokens.models import Hold, LedgerTransaction
from tokens.services import hold_create

pytestmark = pytest.mark.django_db

STEPS = ("what", "job", "day", "time", "how-long", "helper", "repeat")


def tomorrow() -> date:
    return timezone.localdate(timezone=LONDON) + timedelta(days=1)


def answers(**changes: Any) -> dict[str, dict[str, str]]:
    """Gardening tomorrow, 10am to 12pm London, 1 hour 30 minutes, once."""
    out = {
        "what": {"category": "gardening"},
        "job": {"title": "Trim the hedge", "details": "The front hedge, about 5 m."},
        "day": {"day": tomorrow().isoformat()},
        "time": {"start": "10:00", "end": "12:00"},
        "how-long": {"minutes": "90"},
        "helper": {"helper": "none"},
        "repeat": {"repeat": "0"},
    }
    out.update(changes)
    return out


def walk(client: Client, **changes: Any) -> Any:
    """Answer every question the pages ask, in the order they ask them; the check page."""
    given = answers(**changes)
    response = client.get("/my/ask/")
    assert response.status_code == 200
    where = re.search(r'href="(/my/ask/[a-z-]+/)"', response.content.decode())
    assert where is not None
    url = where.group(1)
    while url != "/my/ask/check/":
        step = url.split("/")[-2]
        response = client.post(url, given[step])
        assert response.status_code == 302, text_of(response)
        url = response["Location"]
    return client.get(url)


def key_of(response: Any) -> str:
    found = re.search(r'name="key" value="([0-9a-f]+)"', response.content.decode())
    assert found is not None
    return found.group(1)


def counts() -> dict[str, int]:
    return {
        "tasks": Task.objects.count(),
        "series": TaskSeries.objects.count(),
        "holds": Hold.objects.count(),
        "transactions": LedgerTransaction.objects.count(),
        "audit": AuditEvent.objects.count(),
        "preferences": HelperPreference.objects.count(),
    }


@pytest.fixture
def world(personas: Personas) -> Personas:
    """Alice active with 5 tokens; Bob joined but not paid; Hana vetted; Sam active in
    Suffolk with 2 tokens."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    make_active(personas.sam, by=personas.clara, tokens=2)
    vet(personas.hana_helper, by=personas.cora)
    for who in (personas.alice, personas.sam):
        who.refresh_from_db()
    return personas


@pytest.fixture
def alice(client: Client, world: Personas) -> Client:
    client.force_login(world.alice.user)
    return client


def hana_helped_alice(world: Personas) -> None:
    make_task(
        member=world.alice,
        status=TaskStatus.SETTLED,
        helper=world.hana_helper,
        start=timezone.now() - timedelta(days=7),
    )


# --- The way in -------------------------------------------------------------------------------


def test_start_page_says_what_happens_and_what_she_has_to_spend(alice: Client) -> None:
    response = alice.get("/my/ask/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Ask for help" in words
    assert "There are 6 short questions." in words
    assert "Nothing is booked until you have checked your answers" in words
    assert "You have 5 hours (5 tokens) of help to spend." in words
    assert 'href="/my/ask/what/"' in response.content.decode()
    assert len(alice.session["ask"]["key"]) == 32


def test_signed_out_person_is_sent_to_sign_in(client: Client, world: Personas) -> None:
    response = client.get("/my/ask/what/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_member_whose_membership_is_not_paid_is_told_on_the_ask_page(
    client: Client, world: Personas
) -> None:
    client.force_login(world.bob.user)
    response = client.get("/my/ask/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Your membership is not paid yet" in words
    assert "Pay for your membership" in words
    assert 'href="/my/pay/"' in response.content.decode()
    assert "ask" not in client.session
    # The questions send him back there, and the check page books nothing.
    assert client.get("/my/ask/what/")["Location"] == "/my/ask/"
    assert client.post("/my/ask/check/", {"key": "x"})["Location"] == "/my/ask/"


def test_lapsed_member_is_told_her_tokens_are_still_hers(alice: Client, world: Personas) -> None:
    Member.objects.filter(pk=world.alice.pk).update(membership_status="lapsed")
    words = text_of(alice.get("/my/ask/"))
    assert "Your membership has run out" in words
    assert "Your tokens are still yours" in words


# --- The questions ----------------------------------------------------------------------------


def test_kinds_of_help_are_the_circles_own(alice: Client) -> None:
    alice.get("/my/ask/")
    response = alice.get("/my/ask/what/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<h1 class="govuk-fieldset__heading">What kind of help do you need?</h1>' in page
    for name in ("Gardening", "Odd jobs", "Shopping", "Lifts", "IT help"):
        assert name in page
    assert "Asking for help: question 1 of 6" in text_of(response)


def test_an_empty_answer_shows_the_error_summary_and_keeps_nothing(alice: Client) -> None:
    alice.get("/my/ask/")
    before = counts()
    response = alice.post("/my/ask/what/", {})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Error: What kind of help do you need?" in page
    assert "There is a problem" in text_of(response)
    assert '<a href="#id_category">Choose the kind of help you need.</a>' in page
    assert alice.session["ask"]["answers"] == {}
    assert counts() == before


def test_a_kind_of_help_not_offered_is_refused(alice: Client) -> None:
    alice.get("/my/ask/")
    response = alice.post("/my/ask/what/", {"category": "plumbing"})
    assert "Choose one of the kinds of help listed." in text_of(response)


def test_job_needs_a_title(alice: Client) -> None:
    alice.get("/my/ask/")
    alice.post("/my/ask/what/", {"category": "gardening"})
    response = alice.post("/my/ask/job/", {"title": " ", "details": "x"})
    assert "Say in a few words what the job is." in text_of(response)


def test_days_offered_are_today_and_the_next_13_in_plain_words(alice: Client) -> None:
    alice.get("/my/ask/")
    alice.post("/my/ask/what/", {"category": "gardening"})
    alice.post("/my/ask/job/", {"title": "Hedge", "details": ""})
    words = text_of(alice.get("/my/ask/day/"))
    today = timezone.localdate(timezone=LONDON)
    assert f"Today: {today:%A} {today.day} {today:%B}" in words
    after = today + timedelta(days=1)
    assert f"Tomorrow: {after:%A} {after.day} {after:%B}" in words
    last = today + timedelta(days=13)
    assert f"{last:%A} {last.day} {last:%B}" in words
    too_far = today + timedelta(days=14)
    response = alice.post("/my/ask/day/", {"day": too_far.isoformat()})
    assert "Choose one of the days listed." in text_of(response)


def test_a_question_before_its_turn_sends_her_to_the_first_unanswered(alice: Client) -> None:
    alice.get("/my/ask/")
    alice.post("/my/ask/what/", {"category": "gardening"})
    assert alice.get("/my/ask/time/")["Location"] == "/my/ask/job/"
    assert alice.get("/my/ask/check/")["Location"] == "/my/ask/job/"


def test_unknown_question_is_page_not_found(alice: Client) -> None:
    alice.get("/my/ask/")
    assert alice.get("/my/ask/colour/").status_code == 404


def test_time_must_end_after_it_starts(alice: Client) -> None:
    walk_to = answers()
    alice.get("/my/ask/")
    for step in ("what", "job", "day"):
        alice.post(f"/my/ask/{step}/", walk_to[step])
    page = alice.get("/my/ask/time/")
    assert "What time can a helper come?" in text_of(page)
    assert ">10:30am</option>" in page.content.decode()
    response = alice.post("/my/ask/time/", {"start": "12:00", "end": "10:00"})
    assert response.status_code == 200
    assert '<a href="#id_end">Choose a time after the time it starts.</a>' in (
        response.content.decode()
    )
    response = alice.post("/my/ask/time/", {"start": "", "end": ""})
    words = text_of(response)
    assert "Choose the earliest time a helper can come." in words
    assert "Choose the time the job must be finished by." in words


def test_time_today_that_has_passed_is_refused(alice: Client) -> None:
    alice.get("/my/ask/")
    alice.post("/my/ask/what/", {"category": "gardening"})
    alice.post("/my/ask/job/", {"title": "Hedge", "details": ""})
    alice.post("/my/ask/day/", {"day": timezone.localdate(timezone=LONDON).isoformat()})
    response = alice.post("/my/ask/time/", {"start": "07:00", "end": "07:30"})
    now = timezone.localtime(timezone=LONDON)
    if (now.hour, now.minute) >= (7, 30):
        assert "That time has already passed today." in text_of(response)
    else:
        assert response.status_code == 302


def test_durations_are_shown_as_time_and_tokens_in_the_circles_increment(
    alice: Client, world: Personas
) -> None:
    alice.get("/my/ask/")
    given = answers()
    for step in ("what", "job", "day", "time"):
        alice.post(f"/my/ask/{step}/", given[step])
    words = text_of(alice.get("/my/ask/how-long/"))
    assert "30 minutes (0.5 tokens)" in words
    assert "1 hour 30 minutes (1.5 tokens)" in words
    assert "4 hours (4 tokens)" in words
    world.southwark.billing_increment_minutes = 60
    world.southwark.save()
    words = text_of(alice.get("/my/ask/how-long/"))
    assert "1 hour 30 minutes" not in words
    assert "1 hour (1 token)" in words
    assert "2 hours (2 tokens)" in words


def test_a_job_longer_than_its_window_is_refused_on_the_question(alice: Client) -> None:
    alice.get("/my/ask/")
    given = answers(time={"start": "10:00", "end": "11:00"})
    for step in ("what", "job", "day", "time"):
        alice.post(f"/my/ask/{step}/", given[step])
    response = alice.post("/my/ask/how-long/", {"minutes": "120"})
    assert "The job must fit between 10am and 11am, which is 1 hour." in text_of(response)


def test_without_helpers_she_knows_the_helper_question_is_not_asked(alice: Client) -> None:
    alice.get("/my/ask/")
    given = answers()
    for step in ("what", "job", "day", "time"):
        alice.post(f"/my/ask/{step}/", given[step])
    assert alice.post("/my/ask/how-long/", given["how-long"])["Location"] == "/my/ask/repeat/"
    assert alice.get("/my/ask/helper/").status_code == 404


# --- Check your answers -----------------------------------------------------------------------


def test_check_page_shows_every_answer_with_change_links_and_what_is_held(
    alice: Client,
) -> None:
    response = walk(alice)
    assert response.status_code == 200
    words = text_of(response)
    page = response.content.decode()
    day = tomorrow()
    assert "Check your answers" in words
    assert "Kind of help Gardening" in words
    assert "The job Trim the hedge The front hedge, about 5 m." in words
    assert f"Day {day:%A} {day.day} {day:%B}" in words
    assert "Time 10am to 12pm" in words
    assert "How long 1 hour 30 minutes" in words
    assert "Repeats No, just this once" in words
    for step in ("what", "job", "day", "time", "how-long", "repeat"):
        assert f'href="/my/ask/{step}/"' in page
    assert (
        "We will set aside 1 hour 30 minutes (1.5 tokens) until the job is done. "
        "You have 5 hours (5 tokens) available."
    ) in words
    assert "Change kind of help" in words  # the link's words for a screen reader
    assert 'name="key"' in page


def test_a_change_link_comes_back_to_the_check_page(alice: Client) -> None:
    walk(alice)
    response = alice.post("/my/ask/how-long/", {"minutes": "60"})
    assert response["Location"] == "/my/ask/check/"
    assert "How long 1 hour " in text_of(alice.get("/my/ask/check/"))


def test_asking_books_the_task_holds_the_tokens_and_shows_the_request(
    alice: Client, world: Personas
) -> None:
    check = walk(alice)
    before = counts()
    response = alice.post("/my/ask/check/", {"key": key_of(check)})
    task = Task.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/my/requests/{task.pk}/"
    assert (task.member, task.category.slug, task.title) == (
        world.alice,
        "gardening",
        "Trim the hedge",
    )
    assert task.details == "The front hedge, about 5 m."
    assert task.window_start == london(hour=10)
    assert task.window_end == london(hour=12)
    assert task.estimated_minutes == 90
    assert task.hold.minutes == 90
    assert task.booked_by == world.alice.user
    assert counts()["tasks"] == before["tasks"] + 1
    assert counts()["preferences"] == before["preferences"]
    assert "ask" not in alice.session
    words = text_of(alice.get(response["Location"]))
    assert "You have asked for help." in words
    assert "Looking for a helper" in words


def test_pressing_the_button_twice_books_once(alice: Client) -> None:
    key = key_of(walk(alice))
    first = alice.post("/my/ask/check/", {"key": key})
    again = alice.post("/my/ask/check/", {"key": key})
    assert Task.objects.count() == 1
    assert again["Location"] == first["Location"]


def test_a_second_request_with_the_same_key_finds_the_first_booking(
    alice: Client, world: Personas
) -> None:
    """Two presses sent at once both carry the journey's key: the booking service answers the
    second with the first's task."""
    check = walk(alice)
    key = key_of(check)
    first = task_book(
        member=world.alice,
        caller=caller_for(user=world.alice.user, circle=world.southwark),
        category="gardening",
        title="Trim the hedge",
        details="The front hedge, about 5 m.",
        window_start=london(hour=10),
        window_end=london(hour=12),
        estimated_minutes=90,
        idempotency_key=key,
    ).task
    response = alice.post("/my/ask/check/", {"key": key})
    assert response["Location"] == f"/my/requests/{first.pk}/"
    assert Task.objects.count() == 1
    assert Hold.objects.count() == 1


def test_a_page_from_an_older_journey_books_nothing(alice: Client) -> None:
    walk(alice)
    before = counts()
    response = alice.post("/my/ask/check/", {"key": "0" * 32})
    assert response["Location"] == "/my/ask/check/"
    assert counts() == before


def test_too_few_tokens_show_a_link_to_buy_tokens_and_no_button(
    client: Client, world: Personas
) -> None:
    make_active(world.bob, by=world.otto, tokens=1)
    client.force_login(world.bob.user)
    before = counts()
    response = walk(client, **{"how-long": {"minutes": "120"}})
    words = text_of(response)
    page = response.content.decode()
    assert (
        "You do not have enough tokens for this. It needs 2 hours (2 tokens) and you have "
        "1 hour (1 token)."
    ) in words
    assert 'href="/my/pay/tokens/"' in page
    assert "Buy tokens" in words
    assert 'name="key"' not in page
    assert counts() == before


def test_a_refusal_from_the_booking_service_links_to_the_question_to_change(
    alice: Client,
) -> None:
    check = walk(alice)
    # The day has gone by while the page was open.
    session = alice.session
    session["ask"]["answers"]["day"] = (
        timezone.localdate(timezone=LONDON) - timedelta(days=2)
    ).isoformat()
    session.save()
    before = counts()
    response = alice.post("/my/ask/check/", {"key": key_of(check)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Error: Check your answers" in page
    assert (
        '<a href="/my/ask/day/">That time has already passed. Choose a time from now on.</a>'
        in page
    )
    assert counts() == before


def test_tokens_spent_meanwhile_show_the_services_refusal_with_a_link_to_buy(
    alice: Client, world: Personas
) -> None:
    check = walk(alice, **{"how-long": {"minutes": "120"}})
    # Between the check page and the button, 4 of her 5 tokens are held for another task.
    hold_create(member=world.alice, minutes=240, reference="elsewhere", actor=None)
    response = alice.post("/my/ask/check/", {"key": key_of(check)})
    assert response.status_code == 200
    assert (
        '<a href="/my/pay/tokens/">You do not have enough tokens for this now. Buy more tokens, '
        "or choose a shorter time.</a>"
    ) in response.content.decode()
    assert "You do not have enough tokens for this. It needs 2 hours" in text_of(response)
    assert Task.objects.filter(title="Trim the hedge").count() == 0


# --- A preferred helper -----------------------------------------------------------------------


def test_a_helper_she_knows_can_be_asked_first_and_becomes_her_preference(
    alice: Client, world: Personas
) -> None:
    hana_helped_alice(world)
    hana = world.hana_helper
    alice.get("/my/ask/")
    given = answers(helper={"helper": str(hana.pk)})
    for step in ("what", "job", "day", "time"):
        alice.post(f"/my/ask/{step}/", given[step])
    assert alice.post("/my/ask/how-long/", given["how-long"])["Location"] == "/my/ask/helper/"
    page = alice.get("/my/ask/helper/")
    words = text_of(page)
    assert "Is there a helper you would like us to ask first?" in words
    assert "Hana" in words
    assert "Hughes" not in words
    assert "No preference: anyone suitable" in words
    alice.post("/my/ask/helper/", given["helper"])
    alice.post("/my/ask/repeat/", given["repeat"])
    check = alice.get("/my/ask/check/")
    words = text_of(check)
    assert "Helper to ask first Ask Hana first, this time and next time" in words
    assert "Hana will be your preferred helper" in words
    assert not HelperPreference.objects.filter(member=world.alice).exists()
    alice.post("/my/ask/check/", {"key": key_of(check)})
    word = HelperPreference.objects.get(member=world.alice)
    assert (word.helper, word.kind) == (hana, PreferenceKind.PREFERRED)


def test_no_preference_ends_a_standing_preference_and_says_so(
    alice: Client, world: Personas
) -> None:
    hana_helped_alice(world)
    HelperPreference.objects.create(
        circle=world.southwark,
        member=world.alice,
        helper=world.hana_helper,
        kind=PreferenceKind.PREFERRED,
    )
    check = walk(alice)
    assert "We will stop asking Hana first for your requests." in text_of(check)
    alice.post("/my/ask/check/", {"key": key_of(check)})
    assert not HelperPreference.objects.filter(member=world.alice).exists()


def test_a_blocked_helper_is_not_offered(alice: Client, world: Personas) -> None:
    hana_helped_alice(world)
    HelperPreference.objects.create(
        circle=world.southwark, member=world.alice, helper=world.hana_helper, kind="blocked"
    )
    alice.get("/my/ask/")
    assert alice.get("/my/ask/helper/").status_code == 404


def test_another_circles_member_is_never_offered_southwarks_helpers(
    client: Client, world: Personas
) -> None:
    hana_helped_alice(world)
    client.force_login(world.sam.user)
    check = walk(client)
    words = text_of(check)
    assert "Hana" not in words
    assert "Helper to ask first" not in words
    assert client.get("/my/ask/helper/").status_code == 404
    response = client.post("/my/ask/check/", {"key": key_of(check)})
    task = Task.objects.get(member=world.sam)
    assert task.circle == world.suffolk
    assert response["Location"] == f"/my/requests/{task.pk}/"


# --- Repeats ----------------------------------------------------------------------------------


def test_every_week_sets_up_a_series_and_shows_its_first_visit(
    alice: Client, world: Personas
) -> None:
    give_tokens(world.alice, minutes=600)
    check = walk(alice, repeat={"repeat": "1"})
    words = text_of(check)
    assert "Repeats Every week" in words
    assert "We will set aside 1 hour 30 minutes (1.5 tokens) for each visit" in words
    response = alice.post("/my/ask/check/", {"key": key_of(check)})
    series = TaskSeries.objects.get()
    assert (series.member, series.interval_weeks, series.title) == (
        world.alice,
        1,
        "Trim the hedge",
    )
    first = series.tasks.order_by("window_start").first()
    assert first is not None
    assert first.window_start == london(hour=10)
    assert response["Location"] == f"/my/requests/{first.pk}/"
    again = alice.post("/my/ask/check/", {"key": key_of(check)})
    assert again["Location"] == response["Location"]
    assert TaskSeries.objects.count() == 1


# --- Speed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("history", [0, 25])
def test_the_ask_pages_read_a_fixed_number_of_queries(
    alice: Client, world: Personas, history: int, django_assert_max_num_queries: Any
) -> None:
    for n in range(history):
        make_task(
            member=world.alice,
            status=TaskStatus.SETTLED if n % 2 else TaskStatus.OPEN,
            helper=world.hana_helper if n % 2 else None,
        )
    check = walk(alice)
    with django_assert_max_num_queries(12):
        alice.get("/my/ask/")
    with django_assert_max_num_queries(12):
        alice.get("/my/ask/how-long/")
    with django_assert_max_num_queries(14):
        alice.get("/my/ask/check/")
    with django_assert_max_num_queries(40):
        alice.post("/my/ask/check/", {"key": key_of(check)})


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="commits as in life (transaction=True) with ledger rows: PostgreSQL only",
)
@pytest.mark.django_db(transaction=True)
def test_the_helper_she_chooses_is_in_the_first_offers(
    alice: Client, world: Personas, settings
) -> None:
    """The choice is her standing preference before the booking commits and sends its first
    offers, so it decides who is told first: here the one helper of the first wave."""
    from helpers.models import Helper
    from matching.models import Notice, NoticeKind
    from tests.matching.conftest import new_helper

    settings.MATCHING_OFFER_WAVE_SIZE = 1
    hana_helped_alice(world)
    # Gill helped Alice too, and lives nearer: without the preference she would be told first.
    Helper.objects.filter(pk=world.hana_helper.pk).update(latitude="51.51500", longitude="-0.07630")
    gill = new_helper(world, "Gill", skills=["gardening"])
    make_task(
        member=world.alice,
        status=TaskStatus.SETTLED,
        helper=gill,
        start=timezone.now() - timedelta(days=8),
    )
    check = walk(alice, helper={"helper": str(world.hana_helper.pk)})

    alice.post("/my/ask/check/", {"key": key_of(check)})

    task = Task.objects.get(member=world.alice, title="Trim the hedge")
    first_wave = Notice.objects.filter(task=task, kind=NoticeKind.TASK_OFFERED, wave=1)
    assert [notice.recipient_id for notice in first_wave] == [world.hana.pk]
