"""Registering a caller on the console, /console/{slug}/members/new/: every answer on one page,
the circle's rules with their messages, nothing written on an error, callers already registered
offered rather than duplicated, and the call reference required and in the audit log."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from members.models import AuditEvent, JoinedVia, Member, Role, RoleName, User
from tests.conftest import Personas
from tests.factories import MemberFactory, years_ago
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

NEW = "/console/southwark/members/new/"
BORN = years_ago(78)


@pytest.fixture
def otto(client: Client, personas: Personas) -> Client:
    client.force_login(personas.otto.user)
    return client


def answers(**changes: Any) -> dict[str, str]:
    """A caller's answers as the form sends them; keyword arguments replace (None: drop)."""
    body = {
        "full_name": "Dora Dawson",
        "date_of_birth_day": str(BORN.day),
        "date_of_birth_month": str(BORN.month),
        "date_of_birth_year": str(BORN.year),
        "address_line1": "12 Tabard Street",
        "postcode": "se17pb",
        "phone": "07911 123 456",
        "email": "",
        "call_reference": "CALL-2041",
        "submission": "form-1",
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def counts() -> dict[str, int]:
    return {
        "members": Member.objects.count(),
        "users": User.objects.count(),
        "roles": Role.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def errors_of(response: Any) -> list[str]:
    """The error summary's lines, in order."""
    summary = re.search(
        r'govuk-error-summary__list">(.*?)</ul>', response.content.decode(), flags=re.S
    )
    if summary is None:
        return []
    lines = re.findall(r"<li>(.*?)</li>", summary[1])
    return [html.unescape(re.sub(r"<[^>]+>", "", line)).strip() for line in lines]


def inline_error(response: Any, field_id: str) -> str:
    found = re.search(
        rf'id="{field_id}-error" class="govuk-error-message">.*?</span>\s*(.*?)</p>',
        response.content.decode(),
        flags=re.S,
    )
    return html.unescape(found[1]).strip() if found else ""


# --- Who may use it ---------------------------------------------------------------------------


def test_the_signed_out_are_sent_to_sign_in(client: Client, personas: Personas) -> None:
    response = client.get(NEW)
    assert response.status_code == 302
    assert response.url.startswith("/sign-in/?next=")


@pytest.mark.parametrize("who", ["alice", "hana"])
def test_members_and_helpers_cannot_register_callers(
    client: Client, personas: Personas, who: str
) -> None:
    client.force_login(getattr(personas, who).user)
    before = counts()
    assert client.get(NEW).status_code == 403
    response = client.post(NEW, answers())
    assert response.status_code == 403
    assert counts() == before


def test_another_circles_coordinator_gets_page_not_found(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.clara.user)
    before = counts()
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, answers()).status_code == 404
    assert counts() == before


# --- The page ---------------------------------------------------------------------------------


def test_every_field_is_on_one_page(otto: Client) -> None:
    response = otto.get(NEW)
    page = response.content.decode()

    assert response.status_code == 200
    for name in (
        "full_name",
        "date_of_birth_day",
        "date_of_birth_month",
        "date_of_birth_year",
        "address_line1",
        "postcode",
        "phone",
        "email",
        "call_reference",
    ):
        assert f'name="{name}"' in page, name
    words = text_of(response)
    assert "Register a caller" in words
    assert "Email address (optional)" in words
    assert "Call reference" in words
    assert "This caller may already be registered" not in words
    assert 'name="different_person"' not in page
    assert re.search(r'name="submission" value="[\w-]{16,}"', page)


def test_what_was_searched_for_is_already_in_its_box(otto: Client) -> None:
    page = otto.get(NEW, {"full_name": "Zebedee Zane", "phone": "07700 900 999"}).content.decode()
    assert re.search(r'name="full_name"[^>]*value="Zebedee Zane"', page)
    assert re.search(r'name="phone"[^>]*value="07700 900 999"', page)


# --- Registering ------------------------------------------------------------------------------


def test_a_caller_is_registered_and_the_operator_goes_to_their_card(
    otto: Client, personas: Personas
) -> None:
    before = counts()
    response = otto.post(NEW, answers())

    dora = Member.objects.get(circle=personas.southwark, full_name="Dora Dawson")
    assert response.status_code == 302
    assert response.url == f"/console/southwark/members/{dora.pk}/"
    assert dora.phone == "+447911123456"
    assert dora.postcode == "SE1 7PB"
    assert dora.date_of_birth == BORN
    assert dora.address_line1 == "12 Tabard Street"
    assert dora.email is None
    assert dora.user_id is None
    assert dora.joined_via == JoinedVia.PHONE
    assert list(dora.roles.values_list("role", flat=True)) == [RoleName.MEMBER]
    assert counts() == {
        **before,
        "members": before["members"] + 1,
        "roles": before["roles"] + 1,
        "audit": before["audit"] + 1,
    }


def test_the_call_reference_is_in_the_audit_log_as_done_for_the_caller(
    otto: Client, personas: Personas
) -> None:
    otto.post(NEW, answers(call_reference="  CALL-2041  "))

    dora = Member.objects.get(full_name="Dora Dawson")
    event = AuditEvent.objects.get(member=dora)
    assert event.action == "member.registered_by_staff"
    assert event.call_reference == "CALL-2041"
    assert event.actor_id == personas.otto.user_id
    assert event.actor_member_id == personas.otto.pk
    assert event.circle_id == personas.southwark.pk


def test_an_email_is_kept_when_given(otto: Client) -> None:
    otto.post(NEW, answers(email="Dora@Example.org"))
    assert Member.objects.get(full_name="Dora Dawson").email == "dora@example.org"


def test_a_coordinator_registers_too(client: Client, personas: Personas) -> None:
    client.force_login(personas.cora.user)
    assert client.post(NEW, answers()).status_code == 302
    assert Member.objects.filter(full_name="Dora Dawson").count() == 1


def test_the_same_form_sent_twice_registers_one_caller(otto: Client) -> None:
    first = otto.post(NEW, answers(different_person="on"))
    again = otto.post(NEW, answers(different_person="on"))

    assert first.status_code == again.status_code == 302
    assert first.url == again.url
    assert Member.objects.filter(full_name="Dora Dawson").count() == 1


# --- Each bad answer: its message, and nothing written -----------------------------------------


BAD = [
    ({"full_name": ""}, "full_name", "Enter the caller's full name."),
    ({"full_name": "   "}, "full_name", "Enter the caller's full name."),
    (
        {"date_of_birth_day": "", "date_of_birth_month": "", "date_of_birth_year": ""},
        "date_of_birth",
        "Enter the caller's date of birth.",
    ),
    ({"date_of_birth_month": ""}, "date_of_birth", "Enter the day, month and year."),
    (
        {"date_of_birth_day": "31", "date_of_birth_month": "2"},
        "date_of_birth",
        "Enter a real date, like 27 3 1948.",
    ),
    (
        {"date_of_birth_year": str(years_ago(40).year)},
        "date_of_birth",
        "Members of Southwark Circle are 50 or over.",
    ),
    (
        {"date_of_birth_year": str(years_ago(-1).year)},
        "date_of_birth",
        "Enter a real date of birth, like 27 3 1948.",
    ),
    ({"address_line1": ""}, "address_line1", "Enter the caller's house number and street."),
    ({"postcode": ""}, "postcode", "Enter the caller's postcode."),
    ({"postcode": "SE1"}, "postcode", "Enter a full UK postcode, like SE1 7PB."),
    (
        {"postcode": "IP4 1AA"},
        "postcode",
        "That postcode is outside the area this circle covers, so they cannot join it. Tell the "
        "caller, and suggest a circle nearer to them if there is one.",
    ),
    ({"phone": ""}, "phone", "Enter a phone number to call the caller on."),
    (
        {"phone": "12345"},
        "phone",
        "Enter a UK phone number we can call, like 020 7946 0000 or 07700 900 123.",
    ),
    (
        {"email": "not-an-email"},
        "email",
        "Enter an email address in the right form, like name@example.com.",
    ),
    (
        {"email": "alice@example.org"},
        "email",
        "Someone else already uses that email address. Check it with the caller, or leave it "
        "empty.",
    ),
    (
        {"call_reference": ""},
        "call_reference",
        "Enter the call reference, so the register shows which call this was.",
    ),
    (
        {"call_reference": "    "},
        "call_reference",
        "Enter the call reference, so the register shows which call this was.",
    ),
    (
        {"call_reference": None},
        "call_reference",
        "Enter the call reference, so the register shows which call this was.",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD)
def test_each_bad_answer_is_refused_with_its_message_and_nothing_written(
    otto: Client, changes: dict[str, Any], field: str, message: str
) -> None:
    before = counts()
    response = otto.post(NEW, answers(**changes))

    assert response.status_code == 200
    assert counts() == before
    assert errors_of(response) == [message]
    assert inline_error(response, f"id_{field}") == message
    assert text_of(response).startswith("Error: Register a caller")


def test_every_bad_answer_is_shown_at_once(otto: Client) -> None:
    before = counts()
    response = otto.post(
        NEW,
        answers(
            full_name="",
            date_of_birth_year=str(years_ago(40).year),
            postcode="IP4 1AA",
            phone="12345",
            call_reference="",
        ),
    )

    assert counts() == before
    assert len(errors_of(response)) == 5
    assert errors_of(response)[0] == "Enter the caller's full name."
    assert "Members of Southwark Circle are 50 or over." in errors_of(response)


def test_the_answers_stay_in_their_boxes_after_an_error(otto: Client) -> None:
    page = otto.post(NEW, answers(postcode="IP4 1AA")).content.decode()
    assert re.search(r'name="full_name"[^>]*value="Dora Dawson"', page)
    assert re.search(r'name="phone"[^>]*value="07911 123 456"', page)
    assert re.search(r'name="call_reference"[^>]*value="CALL-2041"', page)


# --- A caller already registered is offered, not duplicated ------------------------------------


@pytest.fixture
def mary(personas: Personas) -> Member:
    return MemberFactory(
        circle=personas.southwark,
        user=None,
        full_name="Mary Ann Smith",
        phone="+447912345678",
        postcode="SE1 2AB",
        date_of_birth=years_ago(81),
    )


@pytest.mark.parametrize("phone", ["07912 345 678", "07912345678", "+44 7912 345678"])
def test_the_same_phone_in_any_spacing_is_offered(otto: Client, mary: Member, phone: str) -> None:
    before = counts()
    response = otto.post(NEW, answers(phone=phone))
    page = response.content.decode()

    assert response.status_code == 200
    assert counts() == before
    words = text_of(response)
    assert "This caller may already be registered" in words
    assert "Open Mary Ann Smith's card" in words
    assert "(the same phone number)" in words
    assert f'href="/console/southwark/members/{mary.pk}/"' in page
    assert "No, this is a different person: register them" in words
    assert errors_of(response) == []


def test_the_same_name_and_date_of_birth_is_offered(otto: Client, mary: Member) -> None:
    born = mary.date_of_birth
    assert born is not None
    before = counts()
    response = otto.post(
        NEW,
        answers(
            full_name="  mary ann   SMITH ",
            date_of_birth_day=str(born.day),
            date_of_birth_month=str(born.month),
            date_of_birth_year=str(born.year),
        ),
    )

    assert counts() == before
    assert "This caller may already be registered" in text_of(response)
    assert "(the same name and date of birth)" in text_of(response)


def test_the_same_name_with_another_birthday_is_not_offered(otto: Client, mary: Member) -> None:
    response = otto.post(NEW, answers(full_name="Mary Ann Smith"))
    assert response.status_code == 302
    assert Member.objects.filter(full_name="Mary Ann Smith").count() == 2


def test_another_circles_caller_is_never_offered(otto: Client, personas: Personas) -> None:
    response = otto.post(NEW, answers(phone="07911 000 001"))
    assert response.status_code == 302
    MemberFactory(circle=personas.suffolk, full_name="Sue Suffolk", phone="+447911000002")
    response = otto.post(NEW, answers(full_name="Sid", phone="07911 000 002", submission="f2"))
    assert response.status_code == 302
    assert "Sue Suffolk" not in text_of(response)


def test_going_on_without_the_choice_is_refused_and_nothing_written(
    otto: Client, mary: Member
) -> None:
    before = counts()
    response = otto.post(NEW, answers(phone="07912 345 678", offered="1"))

    assert counts() == before
    message = (
        "This caller may already be registered. Open their card, or tick “No, this is a "
        "different person” to register them."
    )
    assert errors_of(response) == [message]
    assert inline_error(response, "id_different_person") == message


def test_a_different_person_is_registered_once_the_operator_says_so(
    otto: Client, mary: Member
) -> None:
    response = otto.post(NEW, answers(phone="07912 345 678", offered="1", different_person="on"))

    assert response.status_code == 302
    dora = Member.objects.get(full_name="Dora Dawson")
    assert dora.phone == mary.phone
    assert response.url == f"/console/southwark/members/{dora.pk}/"


def test_the_offer_comes_with_any_other_problem(otto: Client, mary: Member) -> None:
    response = otto.post(NEW, answers(phone="07912 345 678", call_reference=""))
    assert "This caller may already be registered" in text_of(response)
    assert errors_of(response) == [
        "Enter the call reference, so the register shows which call this was."
    ]


def test_the_page_asks_a_fixed_number_of_queries(
    otto: Client, mary: Member, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):
        otto.get(NEW)
    with django_assert_max_num_queries(12):
        otto.post(NEW, answers(phone="07912 345 678"))
