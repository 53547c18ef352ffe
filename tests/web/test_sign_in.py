"""Signing in and out on the pages, with the API's lock-out, and a new password by email."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import PASSWORD
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


def test_member_signs_in_and_lands_on_their_home(client, personas):
    response = client.post(
        "/sign-in/", {"username": "alice@example.org", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/my/"
    assert "Hello, Alice" in text_of(response)


@pytest.mark.parametrize(
    ("email", "lands_on"),
    [
        ("alice@example.org", "/my/"),
        ("hana@example.org", "/helper/"),
        ("otto@example.org", "/console/southwark/"),
        ("cora@example.org", "/coordinator/southwark/"),
        ("clara@example.org", "/coordinator/suffolk/"),
    ],
)
def test_each_person_lands_on_their_own_pages_after_signing_in(client, personas, email, lands_on):
    response = client.post("/sign-in/", {"username": email, "password": PASSWORD})
    assert (response.status_code, response.url) == (302, lands_on)
    # The header's "Circle" link leads back there.
    assert client.get("/home/").url == lands_on


def test_a_next_page_wins_over_the_landing_page(client, personas):
    response = client.post(
        "/sign-in/?next=/my/tokens/", {"username": "otto@example.org", "password": PASSWORD}
    )
    assert response.url == "/my/tokens/"


def test_staff_who_open_the_members_home_are_led_to_their_own_pages(client, personas):
    client.post("/sign-in/", {"username": "otto@example.org", "password": PASSWORD})
    page = client.get("/my/")
    assert page.status_code == 403
    assert 'href="/home/"' in page.content.decode()
    assert "being built" not in text_of(page)


def test_the_header_link_leads_the_signed_out_to_the_front_page(client, db):
    assert client.get("/home/").url == "/"


def test_wrong_password_shows_the_error_summary_and_keeps_the_email(client, personas):
    response = client.post("/sign-in/", {"username": "alice@example.org", "password": "nope"})
    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert "The email address, mobile number or password is not right" in words
    assert 'value="alice@example.org"' in response.content.decode()
    assert "<title>Error: Sign in" in response.content.decode()


def test_empty_form_says_what_to_enter(client, db):
    words = text_of(client.post("/sign-in/", {}))
    assert "Enter email address or mobile number." in words
    assert "Enter password." in words


def test_sign_in_locks_out_after_the_same_failures_as_the_api(client, personas, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/sign-in/", {"username": "alice@example.org", "password": "wrong"})
    response = client.post("/sign-in/", {"username": "alice@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "Please wait before signing in again" in text_of(response)
    # The API refuses the same person from the same address too.
    api = client.post(
        "/api/v1/auth/token/",
        {"email": "alice@example.org", "password": PASSWORD},
        content_type="application/json",
    )
    assert api.status_code == 429


def test_sign_out_is_a_post_and_ends_the_session(client, personas):
    client.force_login(personas.alice.user)
    assert client.get("/my/").status_code == 200
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert client.get("/my/").status_code == 302


def test_member_pages_send_the_signed_out_to_sign_in(client, db):
    response = client.get("/my/")
    assert response.status_code == 302
    assert response.url == "/sign-in/?next=/my/"


def test_a_signed_in_person_without_membership_is_told_so(client, personas):
    client.force_login(personas.hana.user)
    response = client.get("/my/")
    assert response.status_code == 403
    assert "You are not a member yet" in text_of(response)


def test_forms_refuse_a_post_without_the_csrf_token(personas):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/sign-in/", {"username": "alice@example.org", "password": PASSWORD})
    assert response.status_code == 403
    assert "Please try that again" in text_of(response)


def test_password_reset_by_email_sets_a_new_password(client, personas):
    response = client.post("/password-reset/", {"username": "x", "email": "alice@example.org"})
    assert response.status_code == 302
    assert response.url == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    found = re.search(r"http://testserver(/password-reset/\S+/)", mail.outbox[0].body)
    assert found is not None
    link = found.group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in text_of(form_page)
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "a long new secret 42", "new_password2": "a long new secret 42"},
        follow=True,
    )
    assert "Your new password is saved" in text_of(done)
    signed_in = client.post(
        "/sign-in/", {"username": "alice@example.org", "password": "a long new secret 42"}
    )
    assert signed_in.status_code == 302
    assert signed_in.url == "/my/"
    # The link works once.
    assert "This link has expired" in text_of(client.get(link, follow=True))


def test_a_password_with_spaces_at_its_ends_signs_in_on_the_pages_as_chosen(client, db):
    # Joining keeps a password as typed; signing in on the pages stripped it, so it never matched.
    from tests.factories import UserFactory

    user = UserFactory(email="pat@example.org")
    user.set_password("  marigold teapot river  ")
    user.save()

    stripped = client.post(
        "/sign-in/", {"username": "pat@example.org", "password": "marigold teapot river"}
    )
    as_chosen = client.post(
        "/sign-in/", {"username": "pat@example.org", "password": "  marigold teapot river  "}
    )

    assert stripped.status_code == 200
    assert (as_chosen.status_code, as_chosen.url) == (302, "/my/")


def test_a_new_password_of_only_spaces_is_refused(client, personas):
    client.post("/password-reset/", {"email": "alice@example.org"})
    found = re.search(r"http://testserver(/password-reset/\S+/)", mail.outbox[0].body)
    assert found is not None
    form_page = client.get(found.group(1), follow=True)
    set_url = form_page.redirect_chain[-1][0]

    refused = client.post(set_url, {"new_password1": " " * 12, "new_password2": " " * 12})

    assert refused.status_code == 200
    assert "There is a problem" in text_of(refused)
    user = personas.alice.user
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_password_rules_refuse_only_spaces_wherever_a_password_is_set(db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        validate_password(" " * 20)

    assert "password_only_spaces" in {error.code for error in refused.value.error_list}


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post("/password-reset/", {"email": "nobody@example.org"})
    assert response.url == "/password-reset/sent/"
    assert mail.outbox == []


def test_opening_sign_out_asks_and_signs_out_only_on_the_button(client, personas):
    client.force_login(personas.alice.user)
    page = client.get("/sign-out/")
    assert page.status_code == 200
    assert "Sign out" in text_of(page)
    assert client.get("/my/").status_code == 200
    client.post("/sign-out/")
    assert client.get("/my/").status_code == 302
    assert "You are signed out." in text_of(client.get("/sign-out/"))
