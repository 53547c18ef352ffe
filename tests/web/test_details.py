"""A member's contact details on the pages: /my/details/ and /my/details/<field>/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import AuditEvent, Member, User
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

DETAILS = "/my/details/"


def change_url(field: str) -> str:
    return f"/my/details/{field}/"


@pytest.fixture
def alice(client: Client, personas: Personas) -> Member:
    client.force_login(personas.alice.user)
    return personas.alice


def fresh(member: Member) -> Member:
    return Member.objects.select_related("user").get(pk=member.pk)


# --- Who may see them -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [DETAILS, change_url("phone")])
def test_details_send_the_signed_out_to_sign_in(client: Client, db: None, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/sign-in/?next=")


def test_a_helper_who_is_not_a_member_has_no_details_page(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.hana.user)

    assert client.get(DETAILS).status_code == 403
    assert client.post(change_url("phone"), {"phone": "07911 123456"}).status_code == 403
    assert fresh(personas.hana).phone == "+447700900003"


def test_an_unknown_detail_is_page_not_found(client: Client, alice: Member) -> None:
    for field in ("date-of-birth", "password", "full_name"):
        assert client.get(change_url(field)).status_code == 404


# --- Reading them -------------------------------------------------------------------------------


def test_the_member_sees_their_details_each_with_a_change_link(
    client: Client, alice: Member
) -> None:
    response = client.get(DETAILS)

    assert response.status_code == 200
    words = text_of(response)
    assert "Your details" in words
    assert "Alice Archer" in words
    assert f"{alice.address_line1} SE1 2AA" in words
    assert "07700 900001" in words
    assert "alice@example.org" in words
    html = response.content.decode()
    for field in ("name", "address", "phone", "email"):
        assert f'href="{change_url(field)}"' in html
    assert 'Change<span class="govuk-visually-hidden"> your phone number' in html


def test_each_member_sees_only_their_own(client: Client, personas: Personas) -> None:
    client.force_login(personas.sam.user)

    words = text_of(client.get(DETAILS))

    assert "Sam Smith" in words
    assert "Alice" not in words


# --- Changing them ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ("name", 'value="Alice Archer"'),
        ("phone", 'value="07700 900001"'),
        ("email", 'value="alice@example.org"'),
        ("address", 'value="SE1 2AA"'),
    ],
)
def test_a_change_page_asks_one_thing_filled_with_what_we_hold(
    client: Client, alice: Member, field: str, shown: str
) -> None:
    response = client.get(change_url(field))

    assert response.status_code == 200
    html = response.content.decode()
    assert shown in html
    assert len(re.findall(r"<h1", html)) == 1
    assert f'href="{DETAILS}"' in html
    assert "novalidate" in html


def test_a_new_phone_number_is_saved_and_said(client: Client, alice: Member) -> None:
    response = client.post(change_url("phone"), {"phone": "020 7946 0123"})

    assert response.status_code == 302
    assert response.url == DETAILS
    assert fresh(alice).phone == "+442079460123"
    event = AuditEvent.objects.get(action="member.details_changed")
    assert event.member == alice
    assert event.actor == alice.user
    assert event.data == {"fields": ["phone"]}
    words = text_of(client.get(DETAILS))
    assert "Your phone number has been changed." in words
    assert "020 7946 0123" in words


def test_a_new_address_is_placed_again_on_the_map(client: Client, alice: Member) -> None:
    before = (alice.latitude, alice.longitude)

    response = client.post(
        change_url("address"), {"address_line1": "4 Peckham Road", "postcode": "se58ab"}
    )

    assert response.status_code == 302
    member = fresh(alice)
    assert member.address_line1 == "4 Peckham Road"
    assert member.postcode == "SE5 8AB"
    assert (member.latitude, member.longitude) != before
    assert AuditEvent.objects.get(action="member.details_changed").data == {
        "fields": ["address_line1", "postcode"]
    }


def test_a_new_email_changes_how_the_member_signs_in(client: Client, alice: Member) -> None:
    page = text_of(client.get(change_url("email")))
    assert "You also sign in with this" in page

    response = client.post(change_url("email"), {"email": "Alice.New@Example.org"})

    assert response.status_code == 302
    member = fresh(alice)
    assert member.email == "alice.new@example.org"
    assert member.user is not None
    assert member.user.email == "alice.new@example.org"
    assert not User.objects.filter(email="alice@example.org").exists()


def test_a_new_name_is_saved(client: Client, alice: Member) -> None:
    client.post(change_url("name"), {"full_name": "  Alice Archer-Smith "})

    assert fresh(alice).full_name == "Alice Archer-Smith"
    assert "Your name has been changed." in text_of(client.get(DETAILS))


@pytest.mark.parametrize(
    ("field", "data", "said"),
    [
        ("name", {"full_name": ""}, "Enter your full name."),
        ("phone", {"phone": "12"}, "Enter a UK phone number we can call"),
        ("phone", {"phone": ""}, "Enter a phone number we can call you on."),
        ("address", {"address_line1": "1 Road", "postcode": "EH1 1YZ"}, "outside the area"),
        ("address", {"address_line1": "1 Road", "postcode": "SE1"}, "Enter a full UK postcode"),
        ("address", {"address_line1": "", "postcode": "SE1 7PB"}, "Enter your house number"),
        ("email", {"email": "bob@example.org"}, "That email address is already in use."),
        ("email", {"email": "not-an-email"}, "Enter an email address in the right form"),
        ("email", {"email": ""}, "Enter your email address."),
    ],
)
def test_a_change_that_breaks_a_rule_is_explained_and_nothing_is_written(
    client: Client, alice: Member, field: str, data: dict[str, str], said: str
) -> None:
    before = Member.objects.filter(pk=alice.pk).values().get()
    audit = AuditEvent.objects.count()

    response = client.post(change_url(field), data)

    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert said in words
    assert "<title>Error:" in response.content.decode()
    assert Member.objects.filter(pk=alice.pk).values().get() == before
    assert AuditEvent.objects.count() == audit


def test_an_email_another_login_uses_is_refused_even_in_another_circle(
    client: Client, alice: Member, personas: Personas
) -> None:
    response = client.post(change_url("email"), {"email": "sam@example.org"})

    assert "That email address is already in use." in text_of(response)
    assert fresh(alice).email == "alice@example.org"


# --- Queries ------------------------------------------------------------------------------------


def test_details_pages_ask_a_fixed_number_of_queries(
    client: Client, alice: Member, personas: Personas, django_assert_max_num_queries: Any
) -> None:
    def counted(phone: str) -> list[int]:
        counts = []
        for request in (
            lambda: client.get(DETAILS),
            lambda: client.get(change_url("address")),
            lambda: client.post(change_url("phone"), {"phone": phone}),
        ):
            with CaptureQueriesContext(connection) as queries:
                request()
            counts.append(len(queries))
        return counts

    few = counted("020 7946 0123")
    for _ in range(25):
        MemberFactory(circle=personas.southwark)

    assert counted("020 7946 0456") == few
    with django_assert_max_num_queries(8):
        client.get(DETAILS)
