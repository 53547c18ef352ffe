"""A helper's profile on the pages: /helper/profile/, where their checks stand, changing skills,
area and availability (helper_profile_update), and pausing (helper_pause_set)."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from django.test import Client

from helpers.models import AvailabilitySlot, Helper
from helpers.services import helper_vetting_record
from members.models import AuditEvent
from members.selectors import caller_for
from tests.conftest import Personas
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

PROFILE = "/helper/profile/"
PAUSE = "/helper/profile/pause/"


def change_url(field: str) -> str:
    return f"/helper/profile/{field}/"


@pytest.fixture
def hana(client: Client, personas: Personas) -> Helper:
    helper = personas.hana_helper  # gardening and odd jobs (the factory's)
    AvailabilitySlot.objects.create(
        circle=helper.circle, helper=helper, weekday=1, start=time(10), end=time(13)
    )
    client.force_login(personas.hana.user)
    return helper


def saved(helper: Helper) -> dict[str, Any]:
    helper.refresh_from_db()
    return {
        "skills": sorted(helper.skill_rows.values_list("category__slug", flat=True)),
        "radius": str(helper.travel_radius_km),
        "postcode": helper.postcode,
        "slots": [str(slot) for slot in helper.availability.all()],
        "paused": helper.paused,
    }


def test_the_profile_shows_what_the_helper_does_and_their_checks(
    client: Client, hana: Helper, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(12):
        response = client.get(PROFILE)

    assert response.status_code == 200
    words = text_of(response)
    assert "Your profile" in words
    assert "Your checks are not done yet." in words
    assert "What happens next" in words
    assert "As a volunteer, earning tokens" in words
    assert "Gardening" in words
    assert "Up to 5 km" in words
    assert "Tuesday, 10am to 1pm" in words
    assert "I'm not taking tasks for now" in words
    assert 'aria-current="page"' in response.content.decode()


def test_the_profile_shows_checks_done_once_vetted(
    client: Client, hana: Helper, personas: Personas
) -> None:
    helper_vetting_record(
        helper=hana,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        identity_checked=True,
        references_checked=True,
        dbs_level="enhanced",
        dbs_certificate_number="001234567890",
        dbs_issue_date=date(2026, 1, 5),
        original_seen_by="Cora",
    )

    words = text_of(client.get(PROFILE))

    assert "Your checks are done: you can take every kind of help." in words
    assert "Enhanced DBS" in words
    assert "Not done yet" not in words
    assert "What happens next" not in words
    # Never the certificate's number.
    assert "001234567890" not in words


def test_changing_skills_saves_them_and_audits(client: Client, hana: Helper) -> None:
    page = client.get(change_url("skills"))
    assert "Needs an enhanced DBS check" in text_of(page)
    assert 'value="gardening" checked' in page.content.decode()

    response = client.post(change_url("skills"), {"skills": ["shopping", "it-help"]})

    assert response.url == PROFILE
    assert saved(hana)["skills"] == ["it-help", "shopping"]
    assert saved(hana)["slots"] == ["1 10:00-13:00"]  # the rest is as it was
    event = AuditEvent.objects.get(action="helper.profile_updated")
    assert event.member_id == hana.member_id
    assert event.actor_id == hana.member.user_id
    assert event.data["from"]["skills"] == ["gardening", "odd-jobs"]
    assert "Your profile is saved." in text_of(client.get(PROFILE))


def test_changing_area_and_availability(client: Client, hana: Helper) -> None:
    client.post(change_url("area"), {"postcode": "se1 2aa", "travel_radius_km": "10"})
    client.post(
        change_url("availability"),
        {"day4": "on", "day4_start": "18:00", "day4_end": "21:00"},
    )

    now = saved(hana)
    assert now["postcode"] == "SE1 2AA"
    assert now["radius"] == "10.0"
    assert now["slots"] == ["4 18:00-21:00"]
    assert now["skills"] == ["gardening", "odd-jobs"]
    assert AuditEvent.objects.filter(action="helper.profile_updated").count() == 2


def test_the_availability_editor_shows_the_stored_windows(client: Client, hana: Helper) -> None:
    html = client.get(change_url("availability")).content.decode()

    assert 'id="id_day1" name="day1" type="checkbox" value="on" checked' in html
    assert '<option value="10:00" selected>' in html
    assert '<option value="13:00" selected>' in html


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("skills", {}, "Choose at least one kind of help you can give."),
        ("area", {"postcode": "IP1 2AN", "travel_radius_km": "5"}, "outside the area"),
        ("area", {"postcode": "SE1 2AA", "travel_radius_km": "99"}, "Select a valid choice"),
        ("availability", {"day2": "on", "day2_start": "12:00", "day2_end": "11:00"}, "end after"),
        ("availability", {}, "Choose the days you can help"),
    ],
)
def test_a_refused_change_says_why_and_writes_nothing(
    client: Client, hana: Helper, field: str, data: dict[str, str], message: str
) -> None:
    before = saved(hana)
    events = AuditEvent.objects.count()

    response = client.post(change_url(field), data)

    assert response.status_code == 200
    assert "There is a problem" in text_of(response)
    assert message in text_of(response)
    assert saved(hana) == before
    assert AuditEvent.objects.count() == events


def test_pause_and_resume_each_audited_once(client: Client, hana: Helper) -> None:
    response = client.post(PAUSE, {"paused": "1"})

    assert response.url == PROFILE
    hana.refresh_from_db()
    assert hana.paused
    assert hana.paused_at is not None
    words = text_of(client.get(PROFILE))
    assert "Paused" in words
    assert "You are not taking tasks for now" in words
    assert "Resume: I'm taking tasks again" in words

    client.post(PAUSE, {"paused": "1"})  # a double tap changes nothing more
    assert AuditEvent.objects.filter(action="helper.paused").count() == 1

    client.post(PAUSE, {"paused": "0"})
    hana.refresh_from_db()
    assert not hana.paused
    assert hana.paused_at is None
    assert AuditEvent.objects.filter(action="helper.resumed").count() == 1
    assert "Welcome back: you are taking tasks again." in text_of(client.get(PROFILE))


def test_pausing_is_a_post(client: Client, hana: Helper) -> None:
    assert client.get(PAUSE).status_code == 405
    assert not saved(hana)["paused"]


def test_an_unknown_change_page_is_not_found(client: Client, hana: Helper) -> None:
    assert client.get(change_url("kind")).status_code == 404


@pytest.mark.parametrize("url", [PROFILE, change_url("skills"), PAUSE])
def test_signed_out_people_are_sent_to_sign_in(
    client: Client, personas: Personas, url: str
) -> None:
    response = client.post(url) if url == PAUSE else client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/sign-in/")


@pytest.mark.parametrize("who", ["alice", "cora", "sam"])
def test_people_who_are_not_helpers_are_offered_to_become_one(
    client: Client, personas: Personas, who: str
) -> None:
    client.force_login(getattr(personas, who).user)
    events = AuditEvent.objects.count()

    for response in (client.get(PROFILE), client.post(PAUSE, {"paused": "1"})):
        assert response.status_code == 403
        assert "You are not a helper yet" in text_of(response)
    assert AuditEvent.objects.count() == events
