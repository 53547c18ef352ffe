"""Joining on the pages: /circles/{slug}/join/, one question a page, "Check your answers", the
confirmation. Each answer is checked on its own page by the service's rule."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import AuditEvent, JoinedVia, Member, Role, RoleName, User
from tests.conftest import Personas
from tests.factories import MemberFactory, UserFactory, years_ago
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

JOIN = "/circles/southwark/join/"
CHECK = "/circles/southwark/join/check/"
DONE = "/circles/southwark/join/done/"
NEW_PASSWORD = "Marigold-Teapot-1947"

BORN = years_ago(72)
# Every question's answer, as a person types them.
ANSWERS: dict[str, dict[str, str]] = {
    "name": {"full_name": "Dora Dawson"},
    "date-of-birth": {
        "date_of_birth_day": str(BORN.day),
        "date_of_birth_month": str(BORN.month),
        "date_of_birth_year": str(BORN.year),
    },
    "address": {"address_line1": "12 Tabard Street", "postcode": "se17pb"},
    "phone": {"phone": "07911 123456"},
    "email": {"email": "Dora@Example.org"},
    "password": {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
}
SIGNED_IN_STEPS = ["name", "date-of-birth", "address", "phone"]


def step_url(step: str, slug: str = "southwark") -> str:
    return f"/circles/{slug}/join/{step}/"


def answer(client: Client, step: str, **changes: str) -> Any:
    return client.post(step_url(step), {**ANSWERS[step], **changes})


def answer_all(client: Client, steps: list[str] | None = None) -> None:
    for step in steps or list(ANSWERS):
        response = answer(client, step)
        assert response.status_code == 302, text_of(response)


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "members": Member.objects.count(),
        "roles": Role.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


# --- The start page and the addresses ------------------------------------------------------------


def test_start_page_says_what_will_be_asked_and_what_it_costs(
    client: Client, personas: Personas
) -> None:
    response = client.get(JOIN)

    assert response.status_code == 200
    words = text_of(response)
    assert "Join Southwark Circle" in words
    assert "For people aged 50 or over who live within 8 km of SE1 7PB." in words
    assert "your email address, and a password you choose, to sign in with" in words
    assert "Membership costs £10.00 a year. Nothing is charged while you join" in words
    assert f'href="{step_url("name")}"' in response.content.decode()
    assert "Start now" in words


def test_the_circle_page_links_to_joining(client: Client, personas: Personas) -> None:
    assert f'href="{JOIN}"' in client.get("/circles/southwark/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/circles/nowhere/join/",
        "/circles/nowhere/join/name/",
        "/circles/nowhere/join/check/",
        "/circles/southwark/join/shoe-size/",
        "/circles/southwark/join/date_of_birth/",
    ],
)
def test_unknown_circle_or_question_is_page_not_found(
    client: Client, personas: Personas, url: str
) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert "Page not found" in text_of(response)


def test_a_later_question_with_earlier_ones_unanswered_sends_to_the_first_missing(
    client: Client, personas: Personas
) -> None:
    assert client.get(step_url("phone")).url == step_url("name")
    assert client.post(step_url("password"), ANSWERS["password"]).url == step_url("name")
    assert client.get(CHECK).url == step_url("name")

    answer(client, "name")
    answer(client, "date-of-birth")

    assert client.get(step_url("email")).url == step_url("address")
    assert client.get(CHECK).url == step_url("address")
    # An earlier question may be asked again at any time.
    assert client.get(step_url("name")).status_code == 200


# --- Each question --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "heading"),
    [
        ("name", "What is your full name?"),
        ("date-of-birth", "What is your date of birth?"),
        ("address", "What is your address?"),
        ("phone", "What is your phone number?"),
        ("email", "What is your email address?"),
        ("password", "Choose a password"),
    ],
)
def test_each_question_is_the_pages_one_heading(
    client: Client, personas: Personas, step: str, heading: str
) -> None:
    for earlier in ANSWERS:
        if earlier == step:
            break
        answer(client, earlier)

    response = client.get(step_url(step))

    assert response.status_code == 200
    html = response.content.decode()
    assert len(re.findall(r"<h1", html)) == 1
    assert re.search(r"<h1[^>]*>.*?" + re.escape(heading), html, re.S)
    assert "novalidate" in html
    assert "csrfmiddlewaretoken" in html
    assert "Joining Southwark Circle" in text_of(response)


def test_date_of_birth_boxes_say_they_are_a_birthday(client: Client, personas: Personas) -> None:
    answer(client, "name")

    html = client.get(step_url("date-of-birth")).content.decode()

    for part in ("day", "month", "year"):
        assert f'autocomplete="bday-{part}"' in html


def test_address_page_asks_street_and_postcode_together(client: Client, personas: Personas) -> None:
    answer(client, "name")
    answer(client, "date-of-birth")

    html = client.get(step_url("address")).content.decode()

    assert 'autocomplete="address-line1"' in html
    assert 'autocomplete="postal-code"' in html
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--l">' in html


@pytest.mark.parametrize(
    ("step", "data", "said"),
    [
        ("name", {"full_name": "  "}, "Enter your full name."),
        ("date-of-birth", {"date_of_birth_day": ""}, "Enter the day, month and year."),
        (
            "date-of-birth",
            {"date_of_birth_day": "31", "date_of_birth_month": "2"},
            "Enter a real date, like 27 3 1948.",
        ),
        (
            "date-of-birth",
            {"date_of_birth_day": "", "date_of_birth_month": "", "date_of_birth_year": ""},
            "Enter your date of birth.",
        ),
        ("address", {"address_line1": ""}, "Enter your house number and street."),
        ("address", {"postcode": ""}, "Enter your postcode."),
        ("address", {"postcode": "SE1"}, "Enter a full UK postcode, like SE1 7PB."),
        ("address", {"postcode": "ZZ9 9ZZ"}, "We cannot find that postcode."),
        ("phone", {"phone": "12"}, "Enter a UK phone number we can call"),
        ("phone", {"phone": ""}, "Enter a phone number we can call you on."),
        ("email", {"email": "dora-at-example"}, "Enter an email address in the right form"),
        ("email", {"email": ""}, "Enter your email address."),
        ("email", {"email": "ALICE@example.org"}, "There is already a Circle login with this"),
        ("password", {"password": "12345678", "password_again": "12345678"}, "Choose a password"),
        ("password", {"password_again": "something else"}, "The two passwords are not the same."),
        ("password", {"password": "", "password_again": ""}, "Choose a password."),
    ],
)
def test_a_wrong_answer_is_explained_beside_its_box_and_nothing_is_kept(
    client: Client, personas: Personas, step: str, data: dict[str, str], said: str
) -> None:
    for earlier in ANSWERS:
        if earlier == step:
            break
        answer(client, earlier)
    kept = dict(client.session.get("join:southwark", {}))
    before = counts()

    response = answer(client, step, **data)

    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert said in words
    html = response.content.decode()
    assert "<title>Error:" in html
    assert "govuk-error-message" in html
    assert client.session.get("join:southwark", {}) == kept
    assert counts() == before


@pytest.mark.parametrize(
    "email", ["alice@example.org", "Hana@Example.org", "cora@example.org", "sam@example.org"]
)
def test_an_email_that_signs_in_is_asked_to_sign_in_and_join_this_circle_too(
    client: Client, personas: Personas, email: str
) -> None:
    # A member, a helper or staff here, or a member of Suffolk: the same words and link for all.
    answer_all(client, ["name", "date-of-birth", "address", "phone"])
    kept = dict(client.session["join:southwark"])
    before = counts()

    response = answer(client, "email", email=email)

    assert response.status_code == 200
    words = text_of(response)
    assert (
        "There is already a Circle login with this email address. Sign in with it first, then "
        "you can join this circle too."
    ) in words
    assert "Sign in to join Southwark Circle" in words
    assert 'href="/sign-in/?next=%2Fcircles%2Fsouthwark%2Fjoin%2F"' in response.content.decode()
    assert client.session["join:southwark"] == kept
    assert counts() == before


@pytest.mark.parametrize("password", [" " * 8, " " * 30, "\t \t \t \t "])
def test_a_password_of_only_spaces_is_refused(
    client: Client, personas: Personas, password: str
) -> None:
    answer_all(client, ["name", "date-of-birth", "address", "phone", "email"])
    before = counts()

    response = answer(client, "password", password=password, password_again=password)

    assert response.status_code == 200
    assert "There is a problem" in text_of(response)
    assert "password" not in client.session["join:southwark"]
    assert counts() == before


def test_someone_too_young_is_told_on_the_date_of_birth_page(
    client: Client, personas: Personas
) -> None:
    answer(client, "name")
    born = years_ago(49)

    response = answer(
        client,
        "date-of-birth",
        date_of_birth_day=str(born.day),
        date_of_birth_month=str(born.month),
        date_of_birth_year=str(born.year),
    )

    assert response.status_code == 200
    assert "Members of Southwark Circle are 50 or over." in text_of(response)
    assert 'href="#id_date_of_birth"' in response.content.decode()


def test_a_postcode_outside_the_area_is_refused_on_the_address_page(
    client: Client, personas: Personas
) -> None:
    answer(client, "name")
    answer(client, "date-of-birth")

    response = answer(client, "address", postcode="EH1 1YZ")

    assert response.status_code == 200
    words = text_of(response)
    assert "That postcode is outside the area this circle covers" in words


def test_the_password_is_never_shown_back(client: Client, personas: Personas) -> None:
    for step in list(ANSWERS)[:5]:
        answer(client, step)
    answer(client, "password")

    page = client.get(step_url("password")).content.decode()
    check = client.get(CHECK).content.decode()

    assert NEW_PASSWORD not in page
    assert NEW_PASSWORD not in check


def test_the_password_is_never_kept_in_the_session(client: Client, personas: Personas) -> None:
    from django.contrib.sessions.models import Session

    for step in list(ANSWERS)[:5]:
        answer(client, step)
    answer(client, "password")

    stored = Session.objects.get(session_key=client.session.session_key)
    assert NEW_PASSWORD not in stored.session_data
    assert NEW_PASSWORD not in str(stored.get_decoded())


# --- Check your answers, and joining --------------------------------------------------------------


def test_check_page_lists_every_answer_with_a_change_link(
    client: Client, personas: Personas
) -> None:
    answer_all(client)

    response = client.get(CHECK)

    assert response.status_code == 200
    words = text_of(response)
    assert "Check your answers" in words
    assert "Dora Dawson" in words
    assert f"{BORN.day} {BORN:%B} {BORN.year}" in words
    assert "12 Tabard Street SE1 7PB" in words
    assert "07911 123456" in words
    assert "dora@example.org" in words
    assert "Chosen (not shown, to keep it private)" in words
    html = response.content.decode()
    for step in ANSWERS:
        assert f'href="{step_url(step)}?change=1"' in html
    assert 'Change<span class="govuk-visually-hidden"> your address' in html
    assert ">Join</button>" in html


def test_a_change_from_the_check_page_returns_to_it(client: Client, personas: Personas) -> None:
    answer_all(client)

    page = client.get(step_url("address") + "?change=1")
    assert f'href="{CHECK}"' in page.content.decode()  # the back link
    assert 'value="12 Tabard Street"' in page.content.decode()
    response = client.post(
        step_url("address") + "?change=1",
        {"address_line1": "Flat 3, Rose Court", "postcode": "SE1 7PB"},
    )

    assert response.status_code == 302
    assert response.url == CHECK
    assert "Flat 3, Rose Court SE1 7PB" in text_of(client.get(CHECK))


def test_joining_makes_the_member_signs_them_in_and_shows_the_confirmation(
    client: Client, personas: Personas
) -> None:
    answer_all(client)
    before = counts()

    response = client.post(CHECK)

    assert response.status_code == 302
    assert response.url == DONE
    member = Member.objects.get(email="dora@example.org")
    assert member.circle == personas.southwark
    assert member.full_name == "Dora Dawson"
    assert member.date_of_birth == BORN
    assert member.address_line1 == "12 Tabard Street"
    assert member.postcode == "SE1 7PB"
    assert member.phone == "+447911123456"
    assert member.latitude is not None
    assert member.joined_via == JoinedVia.ONLINE
    assert member.membership_status == "pending"
    assert member.user is not None
    assert member.user.check_password(NEW_PASSWORD)
    assert list(member.roles.values_list("role", flat=True)) == [RoleName.MEMBER]
    assert counts() == {
        "users": before["users"] + 1,
        "members": before["members"] + 1,
        "roles": before["roles"] + 1,
        "audit": before["audit"] + 1,
    }
    event = AuditEvent.objects.get(action="member.joined")
    assert event.member == member
    assert event.actor == member.user
    # Signed in as the new member; the answers (and the password) are gone from the session.
    assert "join:southwark" not in client.session
    assert int(client.session["_auth_user_id"]) == member.user.pk

    done = client.get(DONE)
    assert done.status_code == 200
    words = text_of(done)
    assert "You have joined Southwark Circle" in words
    assert "Welcome, Dora" in words
    assert "Pay for your membership: £10.00 for a year." in words
    assert 'href="/my/pay/"' in done.content.decode()
    assert "govuk-panel--confirmation" in done.content.decode()
    assert client.get("/my/").status_code == 200


def test_pressing_join_twice_makes_one_member(client: Client, personas: Personas) -> None:
    answer_all(client)

    first = client.post(CHECK)
    second = client.post(CHECK)

    assert first.url == DONE
    assert second.status_code == 302
    assert second.url == DONE
    assert Member.objects.filter(email="dora@example.org").count() == 1
    assert User.objects.filter(email="dora@example.org").count() == 1


def test_an_email_taken_meanwhile_is_shown_on_the_check_page_with_a_link_to_change_it(
    client: Client, personas: Personas
) -> None:
    answer_all(client)
    UserFactory(email="dora@example.org")  # someone else, between the question and Join
    before = counts()

    response = client.post(CHECK)

    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert "There is already a Circle login with this email address." in words
    assert f'href="{step_url("email")}?change=1"' in response.content.decode()
    assert 'href="/sign-in/?next=%2Fcircles%2Fsouthwark%2Fjoin%2F"' in response.content.decode()
    assert "<title>Error: Check your answers" in response.content.decode()
    assert counts() == before
    assert "join:southwark" in client.session
    assert "_auth_user_id" not in client.session


def test_a_rule_broken_since_the_question_links_back_to_it(
    client: Client, personas: Personas
) -> None:
    answer_all(client)
    personas.southwark.min_age = 80
    personas.southwark.save(update_fields=["min_age"])

    response = client.post(CHECK)

    assert "Members of Southwark Circle are 80 or over." in text_of(response)
    assert f'href="{step_url("date-of-birth")}?change=1"' in response.content.decode()
    assert not Member.objects.filter(full_name="Dora Dawson").exists()


def test_answers_are_kept_for_each_circle_apart(client: Client, personas: Personas) -> None:
    answer(client, "name")

    assert client.get(step_url("date-of-birth")).status_code == 200
    assert client.get(step_url("date-of-birth", "suffolk")).url == step_url("name", "suffolk")


def test_the_confirmation_is_only_for_members(client: Client, personas: Personas) -> None:
    response = client.get(DONE)

    assert response.status_code == 302
    assert response.url == JOIN


# --- Signed in already ------------------------------------------------------------------------


def test_a_signed_in_helper_joins_as_themselves_without_email_or_password(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.hana.user)
    start = client.get(JOIN)
    assert "You are signed in as hana@example.org" in text_of(start)
    assert "a password you choose" not in text_of(start)
    assert client.get(step_url("email")).status_code == 404

    answer_all(client, SIGNED_IN_STEPS)
    check = client.get(CHECK)
    assert "You sign in with hana@example.org" in text_of(check)
    assert f'href="{step_url("email")}' not in check.content.decode()
    before = counts()

    response = client.post(CHECK)

    assert response.url == DONE
    hana = Member.objects.get(pk=personas.hana.pk)
    assert hana.full_name == "Dora Dawson"  # the name she gave
    assert hana.phone == "+447911123456"
    assert set(hana.roles.values_list("role", flat=True)) == {RoleName.HELPER, RoleName.MEMBER}
    assert counts() == {**before, "roles": before["roles"] + 1, "audit": before["audit"] + 1}
    assert "You have joined Southwark Circle" in text_of(client.get(DONE))


def test_someone_of_another_circle_joins_with_their_own_login(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.sam.user)
    answer_all(client, SIGNED_IN_STEPS)

    assert client.post(CHECK).url == DONE

    joined = Member.objects.get(circle=personas.southwark, user=personas.sam.user)
    assert joined.email == "sam@example.org"
    assert User.objects.filter(email="sam@example.org").count() == 1


def test_a_member_already_is_told_so(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice.user)

    response = client.get(JOIN)
    question = client.get(step_url("name"))

    assert "You are already a member of Southwark Circle" in text_of(response)
    assert "You are already a member of Southwark Circle" in text_of(question)
    assert client.post(CHECK).url == DONE


def test_staff_cannot_join_their_own_circle_here(client: Client, personas: Personas) -> None:
    client.force_login(personas.otto.user)
    before = counts()

    response = client.get(JOIN)

    assert response.status_code == 403
    assert "You are signed in as staff" in text_of(response)
    assert client.post(CHECK).status_code == 403
    assert counts() == before


# --- Queries ------------------------------------------------------------------------------------


def journey_queries(email: str) -> list[int]:
    """How many queries each page of joining asks, for a new visitor joining with `email`."""
    client = Client()
    asked: list[int] = []

    def count(request: Any) -> None:
        with CaptureQueriesContext(connection) as queries:
            response = request()
        assert response.status_code in (200, 302), text_of(response)
        asked.append(len(queries))

    count(lambda: client.get(JOIN))
    for step in ANSWERS:
        count(lambda step=step: client.get(step_url(step)))
        count(
            lambda step=step: answer(client, step, **({"email": email} if step == "email" else {}))
        )
    count(lambda: client.get(CHECK))
    count(lambda: client.post(CHECK))
    count(lambda: client.get(DONE))
    return asked


def test_each_page_asks_the_database_a_fixed_number_of_times_however_many_members(
    personas: Personas,
) -> None:
    few = journey_queries("first@example.org")
    for _ in range(25):
        MemberFactory(circle=personas.southwark)
        MemberFactory(circle=personas.suffolk)

    many = journey_queries("second@example.org")

    assert many == few
    # A question page: the circle, the session; answering adds the check and the session's
    # write. Joining is the service's writes and signing in (django-axes logs it).
    assert max(few[1:-3]) <= 7
    assert few[-3] <= 3
    assert few[-2] <= 28
