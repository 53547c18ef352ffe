"""Claiming an account joined by phone (issue 14): staff send a one-time link to set a password
(`POST /api/v1/members/{id}/claim-link/`), the member opens it and sets one, and then signs in
with their mobile number; and the same link by text for a forgotten password."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from circle import sms
from circle.errors import InvalidInput
from members.claim_links import (
    ClaimLinkClosed,
    ClaimLinkUnknown,
    claim_link_open,
    claim_link_use,
    claim_token_hash,
)
from members.models import AuditEvent, ClaimLink, JoinedVia, Member, User
from members.selectors import caller_for
from members.services import member_details_update
from messaging.models import Sms
from messaging.services import password_reset_by_text
from tests.api.checks import assert_error
from tests.conftest import Personas
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Blue-Kettle-Morning-42"
PAT_MOBILE = "+447900123456"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def sms_outbox(settings: Any) -> Any:
    settings.SMS_BACKEND = "circle.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def pat(personas: Personas) -> Member:
    """Pat, registered by Otto on the phone: a member record, a mobile, no email, no login."""
    return MemberFactory(
        circle=personas.southwark,
        user=None,
        full_name="Pat Phillips",
        email=None,
        phone=PAT_MOBILE,
        joined_via=JoinedVia.PHONE,
    )


def url(member: Member) -> str:
    return f"/api/v1/members/{member.pk}/claim-link/"


def send(client: APIClient, member: Member, channel: str = "sms", **extra: Any) -> Any:
    return client.post(url(member), {"channel": channel, **extra}, format="json")


def token_in(text: str) -> str:
    found = re.search(r"/claim/([A-Za-z0-9_-]+)/", text)
    assert found, text
    return found.group(1)


def texted_token(outbox: list[sms.Sms]) -> str:
    return token_in(outbox[-1].body)


# --- Sending -----------------------------------------------------------------------------------


def test_operator_texts_a_link_and_only_its_hash_is_kept(
    personas: Personas, pat: Member, client_for: Any, sms_outbox: list[sms.Sms]
) -> None:
    response = send(client_for(personas.otto), pat, call_reference="CALL-77")

    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "sms"
    assert response.json()["to"] == PAT_MOBILE
    (text,) = sms_outbox
    assert text.to == PAT_MOBILE
    assert text.body.startswith("Set a password for Circle: http")
    assert text.body.endswith(". The link works once, for 3 days.")
    token = token_in(text.body)
    link = ClaimLink.objects.get(member=pat)
    assert link.token_hash == claim_token_hash(token)
    assert link.created_by == personas.otto.user
    assert link.expires_at - link.created_at == timedelta(hours=72)
    # Nowhere else holds the token: not the messaging record, not the audit row.
    assert token not in Sms.objects.get(member=pat).body
    event = AuditEvent.objects.get(member=pat, action="member.claim_link_sent")
    assert event.actor == personas.otto.user
    assert event.call_reference == "CALL-77"
    assert event.data["channel"] == "sms"
    assert token not in str(event.data) + event.reason


def test_coordinator_emails_a_link(personas: Personas, pat: Member, client_for: Any) -> None:
    pat.email = "pat@example.net"
    pat.save(update_fields=["email"])

    response = send(client_for(personas.cora), pat, channel="email")

    assert response.status_code == 201, response.content
    (message,) = mail.outbox
    assert message.to == ["pat@example.net"]
    assert "Set a password for Circle: " in message.body
    assert ClaimLink.objects.get(member=pat).channel == "email"


def test_refused_for_a_member_who_already_has_a_login(
    personas: Personas, client_for: Any, sms_outbox: list[sms.Sms]
) -> None:
    assert_error(send(client_for(personas.otto), personas.alice), 409, "already_has_login")
    assert not sms_outbox
    assert not ClaimLink.objects.exists()


def test_refused_without_a_mobile_or_an_email(
    personas: Personas, pat: Member, client_for: Any
) -> None:
    assert_error(
        send(client_for(personas.otto), pat, channel="email"), 400, "no_email", field="channel"
    )
    pat.phone = ""
    pat.save(update_fields=["phone"])
    assert_error(send(client_for(personas.otto), pat), 400, "no_mobile", field="channel")
    assert not ClaimLink.objects.exists()


def test_another_circles_staff_get_404_and_members_403(
    personas: Personas, pat: Member, client_for: Any
) -> None:
    assert_error(send(client_for(personas.clara), pat), 404, "member_not_found")
    response = send(client_for(personas.alice), pat)
    assert response.status_code == 403
    assert send(APIClient(), pat).status_code in (401, 403)
    assert not ClaimLink.objects.exists()


def test_a_newer_link_supersedes_the_older(
    personas: Personas, pat: Member, client_for: Any, sms_outbox: list[sms.Sms]
) -> None:
    send(client_for(personas.otto), pat)
    first = texted_token(sms_outbox)
    send(client_for(personas.otto), pat)
    second = texted_token(sms_outbox)

    with pytest.raises(ClaimLinkClosed) as closed:
        claim_link_open(first)
    assert closed.value.why == "expired"
    assert claim_link_open(second).member == pat


# --- Using a link ------------------------------------------------------------------------------


def test_a_link_makes_the_login_once(
    personas: Personas, pat: Member, client_for: Any, sms_outbox: list[sms.Sms]
) -> None:
    send(client_for(personas.otto), pat)
    token = texted_token(sms_outbox)

    user = claim_link_use(token=token, password=NEW_PASSWORD)

    pat.refresh_from_db()
    assert pat.user == user
    assert user.phone == PAT_MOBILE
    assert user.email is None
    assert user.full_name == "Pat Phillips"
    assert user.check_password(NEW_PASSWORD)
    assert ClaimLink.objects.get(member=pat).used_at is not None
    assert AuditEvent.objects.filter(member=pat, action="member.claim_link_used").exists()
    with pytest.raises(ClaimLinkClosed) as closed:
        claim_link_use(token=token, password="Another-Long-One-99")
    assert closed.value.why == "used"
    assert User.objects.filter(phone=PAT_MOBILE).count() == 1


def test_a_link_expires_after_72_hours(
    personas: Personas, pat: Member, client_for: Any, sms_outbox: list[sms.Sms]
) -> None:
    send(client_for(personas.otto), pat)
    token = texted_token(sms_outbox)
    link = ClaimLink.objects.get(member=pat)

    assert claim_link_open(token, now=link.created_at + timedelta(hours=71, minutes=59))
    with pytest.raises(ClaimLinkClosed) as closed:
        claim_link_use(
            token=token, password=NEW_PASSWORD, now=link.created_at + timedelta(hours=72)
        )
    assert closed.value.why == "expired"
    pat.refresh_from_db()
    assert pat.user is None


def test_the_max_age_is_a_setting(
    personas: Personas, pat: Member, client_for: Any, settings: Any
) -> None:
    settings.CLAIM_LINK_MAX_AGE_HOURS = 24
    send(client_for(personas.otto), pat)
    link = ClaimLink.objects.get(member=pat)
    assert link.expires_at - link.created_at == timedelta(hours=24)
    assert sms.outbox[-1].body.endswith("for 1 day.")


def test_an_unknown_token_is_unknown(db: None) -> None:
    with pytest.raises(ClaimLinkUnknown):
        claim_link_open("not-a-token")


def test_a_weak_password_or_taken_email_writes_nothing(
    personas: Personas, pat: Member, client_for: Any, sms_outbox: list[sms.Sms]
) -> None:
    send(client_for(personas.otto), pat)
    token = texted_token(sms_outbox)

    with pytest.raises(InvalidInput) as weak:
        claim_link_use(token=token, password="12345678")
    assert getattr(weak.value, "code", "") == "password_too_weak"
    with pytest.raises(InvalidInput) as taken:
        claim_link_use(token=token, password=NEW_PASSWORD, email="ALICE@example.org")
    assert getattr(taken.value, "code", "") == "email_taken"

    pat.refresh_from_db()
    assert pat.user is None
    assert ClaimLink.objects.get(member=pat).used_at is None
    assert not User.objects.filter(full_name="Pat Phillips").exists()


def test_an_email_given_signs_in_too(
    personas: Personas, pat: Member, client_for: Any, sms_outbox: list[sms.Sms]
) -> None:
    send(client_for(personas.otto), pat)
    claim_link_use(token=texted_token(sms_outbox), password=NEW_PASSWORD, email="Pat@Example.net")
    pat.refresh_from_db()
    assert pat.email == "pat@example.net"
    response = APIClient().post(
        TOKEN_URL, {"email": "pat@example.net", "password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200


# --- Signing in by mobile number ---------------------------------------------------------------


@pytest.fixture
def pat_claimed(pat: Member) -> User:
    user = User.objects.create_user(None, NEW_PASSWORD, phone=PAT_MOBILE, full_name=pat.full_name)
    pat.user = user
    pat.save(update_fields=["user"])
    return user


@pytest.mark.parametrize("typed", [PAT_MOBILE, "07900 123456", "07900123456", "+44 7900 123 456"])
def test_token_by_phone_in_any_spacing(pat_claimed: User, typed: str) -> None:
    response = APIClient().post(
        TOKEN_URL, {"phone": typed, "password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["token"] == Token.objects.get(user=pat_claimed).key


def test_token_needs_an_email_or_a_phone(db: None) -> None:
    response = APIClient().post(TOKEN_URL, {"password": NEW_PASSWORD}, format="json")
    assert_error(response, 400, "required", field="email")


def test_token_by_phone_refused_for_a_wrong_password(pat_claimed: User) -> None:
    response = APIClient().post(
        TOKEN_URL, {"phone": "07900 123456", "password": "wrong"}, format="json"
    )
    assert_error(response, 400, "invalid_credentials")


def test_axes_locks_a_phone_out_whatever_its_spacing(pat_claimed: User) -> None:
    api = APIClient()
    spellings = ["07900 123456", "+447900123456", "07900123456", "+44 7900 123456"]
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        body = {"phone": spellings[attempt % len(spellings)], "password": "wrong"}
        assert_error(api.post(TOKEN_URL, body, format="json"), 400, "invalid_credentials")
    body = {"phone": "07900 123 456", "password": "wrong"}
    assert_error(api.post(TOKEN_URL, body, format="json"), 429, "too_many_attempts")

    right = {"phone": PAT_MOBILE, "password": NEW_PASSWORD}
    assert_error(api.post(TOKEN_URL, right, format="json"), 429, "too_many_attempts")
    assert AccessAttempt.objects.get().username == PAT_MOBILE
    assert not Token.objects.exists()


def test_sign_in_page_by_phone(client: Any, pat_claimed: User) -> None:
    response = client.post("/sign-in/", {"username": "07900 123456", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/my/"


def test_me_answers_for_a_login_without_email(pat_claimed: User, client_for: Any) -> None:
    body = client_for(pat_claimed).get("/api/v1/me/").json()
    assert body["email"] is None
    assert body["phone"] == PAT_MOBILE
    assert str(pat_claimed) == "07900 123456"


# --- A forgotten password by text --------------------------------------------------------------


def test_forgotten_password_by_text_sets_a_new_one(
    pat_claimed: User, sms_outbox: list[sms.Sms]
) -> None:
    assert password_reset_by_text(phone="07900 123456")
    token = texted_token(sms_outbox)
    link = ClaimLink.objects.get()
    assert link.purpose == "reset"
    assert link.created_by is None

    claim_link_use(token=token, password="Green-Teapot-Evening-7")

    pat_claimed.refresh_from_db()
    assert pat_claimed.check_password("Green-Teapot-Evening-7")
    # Asked again at once: one text a minute at most.
    assert not password_reset_by_text(phone="07900 123456")
    assert password_reset_by_text(phone="07900 123456", now=timezone.now() + timedelta(minutes=2))


def test_forgotten_password_for_an_unknown_number_texts_nobody(
    pat: Member, sms_outbox: list[sms.Sms]
) -> None:
    # Pat has no login yet: a number without a login gets nothing (staff send claim links).
    assert not password_reset_by_text(phone=PAT_MOBILE)
    assert not password_reset_by_text(phone="07900 999999")
    assert not sms_outbox


def test_a_mobile_another_login_signs_in_with_needs_an_email(
    personas: Personas, pat: Member, pat_claimed: User, client_for: Any
) -> None:
    # Pat's husband, registered with the same mobile: the number signs in to Pat's login only.
    ron = MemberFactory(
        circle=personas.southwark,
        user=None,
        full_name="Ron Phillips",
        email=None,
        phone=PAT_MOBILE,
        joined_via=JoinedVia.PHONE,
    )
    send(client_for(personas.otto), ron)
    token = texted_token(sms.outbox)

    with pytest.raises(InvalidInput) as refused:
        claim_link_use(token=token, password=NEW_PASSWORD)
    assert refused.value.code == "email_required"

    user = claim_link_use(token=token, password=NEW_PASSWORD, email="ron@example.net")
    assert user.phone is None
    assert user.email == "ron@example.net"


def test_a_new_mobile_on_the_record_is_the_one_to_sign_in_with(
    personas: Personas, pat: Member, pat_claimed: User
) -> None:
    member_details_update(
        member=pat,
        caller=caller_for(user=personas.otto.user, circle=personas.southwark),
        phone="07900 654321",
        call_reference="CALL-5",
    )
    pat_claimed.refresh_from_db()
    assert pat_claimed.phone == "+447900654321"
    response = APIClient().post(
        TOKEN_URL, {"phone": "07900 654321", "password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200
