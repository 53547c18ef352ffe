"""Becoming a helper on the pages: /circles/{slug}/helpers/join/, one short question a page,
"Check your answers", then the profile page with what happens next. Each answer is checked on
its own page by helper_signup's rules; nothing is written until the last page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpers.models import AvailabilitySlot, Helper, HelperKind, HelperSkill
from members.models import AuditEvent, JoinedVia, Member, Role, RoleName, User
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

JOIN = "/circles/southwark/helpers/join/"
CHECK = "/circles/southwark/helpers/join/check/"
PROFILE = "/helper/profile/"
NEW_PASSWORD = "Marigold-Teapot-1947"

ANSWERS: dict[str, dict[str, Any]] = {
    "name": {"full_name": "Harriet Hill"},
    "phone": {"phone": "07911 123456"},
    "email": {"email": "Harriet@Example.org"},
    "password": {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    "kind": {"kind": "volunteer"},
    "skills": {"skills": ["gardening", "shopping"]},
    "area": {"postcode": "se17pb", "travel_radius_km": "3"},
    "availability": {
        "day0": "on",
        "day0_start": "09:00",
        "day0_end": "12:00",
        "day3": "on",
        "day3_start": "14:00",
        "day3_end": "17:30",
    },
}
NEW_PERSON_STEPS = list(ANSWERS)
MEMBER_STEPS = ["kind", "skills", "area", "availability"]


def step_url(step: str, slug: str = "southwark") -> str:
    return f"/circles/{slug}/helpers/join/{step}/"


def answer(client: Client, step: str, **changes: Any) -> Any:
    return client.post(step_url(step), {**ANSWERS[step], **changes})


def answer_all(client: Client, steps: list[str]) -> None:
    for step in steps:
        response = answer(client, step)
        assert response.status_code == 302, text_of(response)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Member, Role, Helper, HelperSkill, AvailabilitySlot, AuditEvent)
    }


def test_the_circle_page_links_to_becoming_a_helper(client: Client, personas: Personas) -> None:
    assert f'href="{JOIN}"' in client.get("/circles/southwark/").content.decode()


def test_start_page_says_what_is_asked_and_about_the_checks(
    client: Client, personas: Personas
) -> None:
    response = client.get(JOIN)

    assert response.status_code == 200
    words = text_of(response)
    assert "Become a helper with Southwark Circle" in words
    assert "an email address and password to sign in with" in words
    assert "arranges a DBS (criminal record) check" in words
    assert "Some kinds of help need an enhanced DBS check." in words
    assert f'href="{step_url("name")}"' in response.content.decode()


def test_skills_are_checkboxes_saying_which_need_enhanced_checks(
    client: Client, personas: Personas
) -> None:
    answer_all(client, NEW_PERSON_STEPS[:5])
    response = client.get(step_url("skills"))

    html = response.content.decode()
    assert html.count('name="skills" type="checkbox"') == 8
    assert 'class="govuk-checkboxes"' in html
    words = text_of(response)
    assert "Shopping Needs an enhanced DBS check" in words
    assert "Gardening Needs a basic DBS check" in words


@pytest.mark.parametrize("url", ["/circles/nowhere/helpers/join/", step_url("shoe-size")])
def test_unknown_circle_or_question_is_page_not_found(
    client: Client, personas: Personas, url: str
) -> None:
    assert client.get(url).status_code == 404


def test_a_new_person_signs_up_is_signed_in_and_lands_on_their_profile(
    client: Client, personas: Personas
) -> None:
    answer_all(client, NEW_PERSON_STEPS)
    before = counts()

    check = client.get(CHECK)
    words = text_of(check)
    assert "Check your answers" in words
    assert "Harriet Hill" in words
    assert "07911 123456" in words
    assert "harriet@example.org" in words
    assert NEW_PASSWORD not in check.content.decode()
    assert "As a volunteer, earning tokens" in words
    assert "Gardening" in words
    assert "Shopping" in words
    assert "SE1 7PB" in words
    assert "Up to 3 km" in words
    assert "Monday, 9am to 12pm" in words
    assert "Thursday, 2pm to 5:30pm" in words
    assert counts() == before  # nothing is written before the last page

    response = client.post(CHECK)

    assert response.status_code == 302
    assert response.url == PROFILE
    helper = Helper.objects.get(member__user__email="harriet@example.org")
    assert helper.circle == personas.southwark
    assert helper.kind == HelperKind.VOLUNTEER
    assert helper.postcode == "SE1 7PB"
    assert str(helper.travel_radius_km) == "3.0"
    assert sorted(helper.skill_rows.values_list("category__slug", flat=True)) == [
        "gardening",
        "shopping",
    ]
    assert [str(slot) for slot in helper.availability.all()] == ["0 09:00-12:00", "3 14:00-17:30"]
    assert helper.member.joined_via == JoinedVia.HELPER_SIGNUP
    assert helper.member.phone == "+447911123456"
    assert helper.member.user is not None
    assert helper.member.user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="helper.signed_up", member=helper.member).count() == 1

    profile = client.get(PROFILE)
    words = text_of(profile)
    assert "You have signed up as a helper with Southwark Circle." in words
    assert "Your checks are not done yet." in words
    assert "What happens next" in words
    assert "your passport or photo driving licence" in words
    assert words.count("Not done yet") == 3
    # Signed in as the new helper; the answers are gone from the session.
    assert "helper-join:southwark" not in client.session


def test_a_signed_in_member_is_asked_only_about_helping(client: Client, personas: Personas) -> None:
    alice = personas.alice
    client.force_login(alice.user)

    start = client.get(JOIN)
    assert "You are signed in as alice@example.org" in text_of(start)
    assert f'href="{step_url("kind")}"' in start.content.decode()
    for skipped in ("name", "phone", "email", "password"):
        assert client.get(step_url(skipped)).status_code == 404
    answer_all(client, MEMBER_STEPS)
    users, members = User.objects.count(), Member.objects.count()

    words = text_of(client.get(CHECK))
    assert "Alice Archer" in words
    assert "You sign in with alice@example.org" in words
    response = client.post(CHECK)

    assert response.url == PROFILE
    helper = Helper.objects.get(member=alice)
    assert helper.postcode == "SE1 7PB"
    assert (User.objects.count(), Member.objects.count()) == (users, members)
    assert set(alice.roles.values_list("role", flat=True)) == {RoleName.MEMBER, RoleName.HELPER}
    assert client.get(PROFILE).status_code == 200


def test_the_area_page_offers_a_members_home_postcode(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice.user)
    answer_all(client, ["kind", "skills"])

    assert 'value="SE1 2AA"' in client.get(step_url("area")).content.decode()


def test_another_circles_member_signs_up_here_on_their_login(
    client: Client, personas: Personas
) -> None:
    sam = personas.sam
    client.force_login(sam.user)
    assert client.get(step_url("email")).status_code == 404
    assert 'value="Sam Smith"' in client.get(step_url("name")).content.decode()

    answer_all(client, ["name", "phone", *MEMBER_STEPS])
    response = client.post(CHECK)

    assert response.url == PROFILE
    helper = Helper.objects.get(circle=personas.southwark, member__user=sam.user)
    assert helper.member.full_name == "Harriet Hill"
    assert helper.member.phone == "+447911123456"
    # Their Suffolk membership is untouched; no second login.
    sam.refresh_from_db()
    assert sam.circle == personas.suffolk
    assert User.objects.filter(email="sam@example.org").count() == 1


def test_someone_already_a_helper_is_told_so_and_sent_to_their_profile(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.hana.user)
    before = counts()

    for url in (JOIN, step_url("kind"), CHECK):
        response = client.get(url)
        assert response.status_code == 200
        assert "You are already a helper with Southwark Circle" in text_of(response)
        assert f'href="{PROFILE}"' in response.content.decode()
    assert client.post(step_url("kind"), ANSWERS["kind"]).status_code == 200
    assert counts() == before


@pytest.mark.parametrize(
    ("step", "changes", "message"),
    [
        ("name", {"full_name": ""}, "Enter your full name."),
        ("phone", {"phone": "12"}, "Enter a UK phone number we can call"),
        ("email", {"email": "not-an-email"}, "Enter an email address in the right form"),
        ("email", {"email": "alice@example.org"}, "There is already a Circle login"),
        ("password", {"password": "12345678", "password_again": "12345678"}, "Choose a password"),
        ("kind", {"kind": ""}, "Choose how you want to help."),
        ("kind", {"kind": "mercenary"}, "Select a valid choice"),
        ("skills", {"skills": []}, "Choose at least one kind of help you can give."),
        ("skills", {"skills": ["juggling"]}, "Choose one of the kinds of help listed."),
        ("area", {"postcode": ""}, "Enter your postcode."),
        ("area", {"postcode": "banana"}, "Enter a full UK postcode, like SE1 7PB."),
        ("area", {"postcode": "IP1 2AN"}, "That postcode is outside the area"),
        ("area", {"travel_radius_km": "500"}, "Select a valid choice"),
        ("availability", {"day0": "", "day3": ""}, "Choose the days you can help"),
        ("availability", {"any_time": "on"}, "not both"),
        ("availability", {"day0_end": ""}, "Choose the time you must finish by on Monday."),
        ("availability", {"day0_end": "08:00"}, "Each window must end after it starts."),
        ("availability", {"day0_start": "03:00"}, "Choose one of the times listed."),
    ],
)
def test_a_refused_answer_says_why_and_writes_nothing(
    client: Client, personas: Personas, step: str, changes: dict[str, Any], message: str
) -> None:
    earlier = NEW_PERSON_STEPS[: NEW_PERSON_STEPS.index(step)]
    answer_all(client, earlier)
    saved = dict(client.session.get("helper-join:southwark", {}))
    before = counts()

    response = answer(client, step, **changes)

    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert message in words
    assert response.content.decode().count("govuk-error-message") >= 1
    assert "Error:" in words
    assert counts() == before
    assert dict(client.session.get("helper-join:southwark", {})) == saved


def test_the_password_is_kept_only_as_a_hash(client: Client, personas: Personas) -> None:
    answer_all(client, NEW_PERSON_STEPS)

    kept = client.session["helper-join:southwark"]["password"]
    assert NEW_PASSWORD not in str(dict(client.session))
    assert kept.startswith("md5$")  # the tests' hasher


def test_an_email_taken_meanwhile_is_shown_on_check_and_nothing_is_written(
    client: Client, personas: Personas
) -> None:
    answer_all(client, NEW_PERSON_STEPS)
    User.objects.create_user("harriet@example.org", PASSWORD)
    before = counts()

    response = client.post(CHECK)

    assert response.status_code == 200
    words = text_of(response)
    assert "There is already a Circle login with this email address" in words
    assert f'href="{step_url("email")}?change=1"' in response.content.decode()
    assert counts() == before


def test_a_later_question_first_sends_to_the_first_unanswered(
    client: Client, personas: Personas
) -> None:
    assert client.get(step_url("area")).url == step_url("name")
    assert client.get(CHECK).url == step_url("name")


def test_changing_an_answer_returns_to_check(client: Client, personas: Personas) -> None:
    answer_all(client, NEW_PERSON_STEPS)

    page = client.get(step_url("area") + "?change=1")
    assert "Save and go back to your answers" in text_of(page)
    response = client.post(
        step_url("area") + "?change=1", {"postcode": "SE1 2AA", "travel_radius_km": "8"}
    )

    assert response.url == CHECK
    assert "Up to 8 km" in text_of(client.get(CHECK))


def test_any_time_is_no_windows(client: Client, personas: Personas) -> None:
    answer_all(client, NEW_PERSON_STEPS[:-1])
    assert client.post(step_url("availability"), {"any_time": "on"}).url == CHECK
    assert "Any day, at any time" in text_of(client.get(CHECK))

    client.post(CHECK)

    assert not AvailabilitySlot.objects.filter(helper__member__full_name="Harriet Hill").exists()
