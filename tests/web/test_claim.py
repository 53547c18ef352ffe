"""The pages of claiming an account joined by phone: the console card's "Send a link to set a
password", `/claim/{token}/` (set a password, expired, used, unknown), and a forgotten password
by text at `/password-reset/`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from circle import sms
from members.models import AuditEvent, ClaimLink, JoinedVia, Member, User
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

PAT_MOBILE = "+447900123456"
NEW_PASSWORD = "Blue-Kettle-Morning-42"
CIRCLE_PHONE = "+442079460000"


@pytest.fixture(autouse=True)
def sms_outbox(settings: Any) -> Any:
    settings.SMS_BACKEND = "circle.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def pat(personas: Personas) -> Member:
    personas.southwark.phone = CIRCLE_PHONE
    personas.southwark.save(update_fields=["phone"])
    return MemberFactory(
        circle=personas.southwark,
        user=None,
        full_name="Pat Phillips",
        email=None,
        phone=PAT_MOBILE,
        joined_via=JoinedVia.PHONE,
    )


def claim_path(outbox: list[sms.Sms]) -> str:
    found = re.search(r"https?://[^/]+(/claim/[A-Za-z0-9_-]+/)", outbox[-1].body)
    assert found, outbox[-1].body
    return found.group(1)


def send_from_console(client: Client, personas: Personas, member: Member, **extra: str) -> Any:
    client.force_login(personas.otto.user)
    return client.post(
        f"/console/southwark/members/{member.pk}/claim-link/",
        {"channel": "sms", "call_reference": "CALL-9", **extra},
    )


# --- The console -------------------------------------------------------------------------------


def test_the_card_offers_the_link_only_to_a_member_without_a_login(
    client: Client, personas: Personas, pat: Member
) -> None:
    client.force_login(personas.otto.user)
    assert "Send a link to set a password" in text_of(
        client.get(f"/console/southwark/members/{pat.pk}/")
    )
    assert "Send a link to set a password" not in text_of(
        client.get(f"/console/southwark/members/{personas.alice.pk}/")
    )


def test_the_operator_sends_a_text_from_the_card(
    client: Client, personas: Personas, pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    page = client.get(f"/console/southwark/members/{pat.pk}/claim-link/")
    assert page.status_code == 302  # not signed in yet
    client.force_login(personas.otto.user)
    words = text_of(client.get(f"/console/southwark/members/{pat.pk}/claim-link/"))
    assert "Text message to 07900 123456" in words
    assert "Email to" not in words  # Pat has no email

    response = send_from_console(client, personas, pat)

    assert response.status_code == 302
    assert response["Location"] == f"/console/southwark/members/{pat.pk}/"
    card = text_of(client.get(response["Location"]))
    assert "Sent Pat Phillips a text message with a link to set a password" in card
    # And in what staff did for her, on the card.
    assert "Sent a link to set a password" in text_of(client.get(response["Location"]))
    assert len(sms_outbox) == 1
    assert (
        AuditEvent.objects.get(action="member.claim_link_sent", member=pat).call_reference
        == "CALL-9"
    )


def test_the_console_form_asks_for_the_call_reference_and_sends_nothing_without(
    client: Client, personas: Personas, pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    response = send_from_console(client, personas, pat, call_reference="")
    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert "Enter the call reference" in words
    assert not sms_outbox
    assert not ClaimLink.objects.exists()


def test_another_circles_staff_cannot_send_one(
    client: Client, personas: Personas, pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    client.force_login(personas.clara.user)
    response = client.post(
        f"/console/suffolk/members/{pat.pk}/claim-link/",
        {"channel": "sms", "call_reference": "X"},
    )
    assert response.status_code == 404
    assert not sms_outbox


# --- /claim/{token}/ ----------------------------------------------------------------------------


def test_the_member_sets_a_password_and_lands_at_home_signed_in(
    client: Client, personas: Personas, pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    send_from_console(client, personas, pat)
    path = claim_path(sms_outbox)
    member_client = Client()

    page = member_client.get(path)
    assert page.status_code == 200
    assert "Hello Pat, set a password" in text_of(page)

    response = member_client.post(
        path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "email": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == "/my/"
    home = member_client.get("/my/")
    assert home.status_code == 200
    pat.refresh_from_db()
    assert pat.user is not None
    assert pat.user.phone == PAT_MOBILE
    assert int(member_client.session["_auth_user_id"]) == pat.user.pk

    again = Client().get(path)
    assert again.status_code == 410
    assert "This link has already been used" in text_of(again)


def test_errors_show_the_summary_and_write_nothing(
    client: Client, personas: Personas, pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    send_from_console(client, personas, pat)
    path = claim_path(sms_outbox)
    member_client = Client()

    for answers, said in (
        ({"new_password1": NEW_PASSWORD, "new_password2": "other"}, "are not the same"),
        (
            {"new_password1": "password", "new_password2": "password"},
            "Choose a password of at least 8 characters",
        ),
        (
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "email": "nope"},
            "Enter an email address",
        ),
        (
            {
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
                "email": "alice@example.org",
            },
            "already in use",
        ),
    ):
        response = member_client.post(path, answers)
        words = text_of(response)
        assert response.status_code == 200
        assert "There is a problem" in words, answers
        assert said in words, (answers, words)
        assert "<title>Error:" in response.content.decode()

    pat.refresh_from_db()
    assert pat.user is None
    assert not User.objects.filter(phone=PAT_MOBILE).exists()
    assert ClaimLink.objects.get().used_at is None


def test_an_expired_link_says_so_with_the_circles_number(
    client: Client, personas: Personas, pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    send_from_console(client, personas, pat)
    path = claim_path(sms_outbox)
    link = ClaimLink.objects.get()
    ClaimLink.objects.filter(pk=link.pk).update(
        created_at=link.created_at - timedelta(hours=72),
        expires_at=link.expires_at - timedelta(hours=72),
    )

    response = Client().get(path)

    assert response.status_code == 410
    words = text_of(response)
    assert "This link has expired" in words
    assert "Call Southwark Circle and ask them to send you a new one" in words
    assert "020 7946 0000" in words
    posted = Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert posted.status_code == 410
    pat.refresh_from_db()
    assert pat.user is None


def test_an_unknown_link_is_page_not_found(client: Client, db: None) -> None:
    assert client.get("/claim/not-a-real-token/").status_code == 404


# --- A forgotten password by text ---------------------------------------------------------------


@pytest.fixture
def pat_claimed(pat: Member) -> User:
    user = User.objects.create_user(None, NEW_PASSWORD, phone=PAT_MOBILE, full_name=pat.full_name)
    pat.user = user
    pat.save(update_fields=["user"])
    return user


def test_a_forgotten_password_by_mobile_number(
    client: Client, pat_claimed: User, sms_outbox: list[sms.Sms]
) -> None:
    page = client.get("/password-reset/")
    assert "Email address or mobile number" in text_of(page)

    response = client.post("/password-reset/", {"email": "07900 123456"})

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    (text,) = sms_outbox
    assert text.to == PAT_MOBILE
    path = claim_path(sms_outbox)
    page = client.get(path)
    assert "choose a new password" in text_of(page)
    assert "Email address (optional)" not in text_of(page)
    done = client.post(
        path, {"new_password1": "Green-Teapot-7x", "new_password2": "Green-Teapot-7x"}
    )
    # Not signed in by the link: they sign in with the new password (and, for staff, a code).
    assert done["Location"] == "/sign-in/"
    assert "_auth_user_id" not in client.session
    pat_claimed.refresh_from_db()
    assert pat_claimed.check_password("Green-Teapot-7x")


def test_an_unknown_number_or_email_gets_the_same_sent_page(
    client: Client, pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    for value in ("07900 999999", PAT_MOBILE, "nobody@example.org"):
        response = client.post("/password-reset/", {"email": value})
        assert response.status_code == 302
        assert response["Location"] == "/password-reset/sent/"
    assert not sms_outbox
    assert not mail.outbox
    assert "Check your email or your phone" in text_of(client.get("/password-reset/sent/"))


def test_neither_an_email_nor_a_number_is_asked_again(client: Client, db: None) -> None:
    response = client.post("/password-reset/", {"email": "hello"})
    assert response.status_code == 200
    assert "Enter an email address, or a mobile number like 07700 900123" in text_of(response)


def test_a_forgotten_password_by_email_still_works(client: Client, personas: Personas) -> None:
    response = client.post("/password-reset/", {"email": "alice@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.org"]


def test_sign_in_page_asks_for_email_or_mobile(client: Client, db: None) -> None:
    assert "Email address or mobile number" in text_of(client.get("/sign-in/"))


def test_the_sign_in_page_locks_out_a_mobile_number_whatever_its_spacing(
    client: Client, pat_claimed: User, settings: Any
) -> None:
    spellings = ["07900 123456", "+447900123456", "07900123456", "+44 7900 123 456"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/sign-in/", {"username": spellings[attempt % len(spellings)], "password": "wrong"}
        )

    response = client.post("/sign-in/", {"username": "07900 123456", "password": NEW_PASSWORD})

    assert response.status_code == 429
    assert "Please wait before signing in again" in text_of(response)
    # The API refuses the same number from the same address too.
    api = client.post(
        "/api/v1/auth/token/",
        {"phone": PAT_MOBILE, "password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert api.status_code == 429
