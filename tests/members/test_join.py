"""POST /api/v1/circles/{slug}/members/: joining online, by phone through staff, and as oneself."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from members import services
from members.models import AuditEvent, JoinedVia, Member, Role, RoleName, User
from tests.conftest import Personas
from tests.factories import MemberFactory, UserFactory, years_ago
from tests.members.conftest import NEW_PASSWORD, join_url

Body = Callable[..., dict[str, Any]]
Counts = Callable[[], dict[str, int]]
ClientFor = Callable[[Any], APIClient]


def post(client: APIClient, body: Any, slug: str = "southwark") -> Any:
    return client.post(join_url(slug), body, format="json")


# --- Joining online -------------------------------------------------------------------------


def test_online_join_returns_pending_member_with_normalised_details(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(client_for(None), join_body())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["full_name"] == "Dora Dawson"
    assert body["email"] == "dora@example.org"
    assert body["circle"] == "southwark"
    assert body["postcode"] == "SE1 7PB"
    assert body["phone"] == "+447911123456"
    assert body["address_line1"] == "12 Tabard Street"
    assert body["date_of_birth"] == years_ago(72).isoformat()
    assert body["roles"] == ["member"]
    assert body["membership"] == {"status": "pending", "paid_until": None}
    assert body["has_login"] is True
    assert body["joined_via"] == "online"
    assert body["helper_id"] is None
    member = Member.objects.get(pk=body["id"])
    assert member.circle == personas.southwark
    assert member.latitude is not None
    assert member.longitude is not None


def test_online_join_makes_a_login_that_signs_in_whatever_the_email_case(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(client_for(None), join_body(email="Dora.Dawson@Example.ORG"))
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "dora.dawson@example.org"

    token = APIClient().post(
        "/api/v1/auth/token/",
        {"email": "DORA.dawson@example.org", "password": NEW_PASSWORD},
        format="json",
    )
    assert token.status_code == 200, token.json()

    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    me = signed_in.get("/api/v1/me/")
    assert me.status_code == 200
    assert [c["member_id"] for c in me.json()["circles"]] == [response.json()["id"]]


def test_online_join_writes_member_joined_audit_with_new_user_as_actor(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(client_for(None), join_body())
    assert response.status_code == 201

    member = Member.objects.get(pk=response.json()["id"])
    event = AuditEvent.objects.get(member=member)
    assert event.action == "member.joined"
    assert event.circle == personas.southwark
    assert event.actor == member.user
    assert event.actor_member == member
    assert event.data["postcode"] == "SE1 7PB"
    assert event.data["with_login"] is True


def test_online_join_writes_one_user_member_role_and_audit_row(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    assert post(client_for(None), join_body()).status_code == 201
    after = counts()
    assert {key: after[key] - before[key] for key in before} == {
        "users": 1,
        "members": 1,
        "roles": 1,
        "audit": 1,
    }


def test_join_accepted_on_the_fiftieth_birthday(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(client_for(None), join_body(date_of_birth=years_ago(50).isoformat()))
    assert response.status_code == 201, response.json()


def test_join_accepted_with_nulls_for_optional_fields_from_staff(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(
        client_for(personas.otto), join_body(email=None, password=None, reason="Phoned in")
    )
    assert response.status_code == 201, response.json()
    assert response.json()["email"] is None


# --- Joining by phone, through staff --------------------------------------------------------


@pytest.mark.parametrize("staff", ["otto", "cora"])
def test_staff_register_a_caller_without_email_or_password(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, staff: str
) -> None:
    before = counts()
    response = post(
        client_for(getattr(personas, staff)),
        join_body(email=None, password=None, call_reference="CALL-1234"),
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_login"] is False
    assert body["email"] is None
    assert body["joined_via"] == "phone"
    assert body["roles"] == ["member"]
    assert body["membership"] == {"status": "pending", "paid_until": None}
    after = counts()
    assert after["users"] == before["users"]
    assert after["members"] == before["members"] + 1


def test_staff_registration_audit_names_operator_reason_and_call_reference(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(
        client_for(personas.otto),
        join_body(
            email=None,
            password=None,
            reason="Daughter rang on her behalf",
            call_reference="CALL-77",
        ),
    )
    assert response.status_code == 201, response.json()

    event = AuditEvent.objects.get(member_id=response.json()["id"])
    assert event.action == "member.registered_by_staff"
    assert event.actor == personas.otto.user
    assert event.actor_member == personas.otto
    assert event.reason == "Daughter rang on her behalf"
    assert event.call_reference == "CALL-77"
    assert event.data["with_login"] is False


@pytest.mark.parametrize("blank", [{}, {"reason": ""}, {"reason": "   ", "call_reference": " "}])
def test_staff_registration_rejected_without_reason_or_call_reference(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, blank: Any
) -> None:
    before = counts()
    response = post(client_for(personas.otto), join_body(email=None, password=None, **blank))

    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    assert response.json()["field"] == "reason"
    assert counts() == before


def test_staff_registration_with_email_but_no_password_keeps_a_contact_email_only(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(
        client_for(personas.cora),
        join_body(email="Dora@Example.org", password=None, reason="No computer at home"),
    )

    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "dora@example.org"
    assert response.json()["has_login"] is False
    assert counts()["users"] == before["users"]
    assert not User.objects.filter(email__iexact="dora@example.org").exists()


def test_staff_registration_with_email_and_password_makes_a_login(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(client_for(personas.otto), join_body(reason="Set up her login on the phone"))

    assert response.status_code == 201, response.json()
    assert response.json()["has_login"] is True
    assert response.json()["joined_via"] == "phone"
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"email": "dora@example.org", "password": NEW_PASSWORD},
        format="json",
    )
    assert token.status_code == 200
    event = AuditEvent.objects.get(member_id=response.json()["id"])
    assert event.actor == personas.otto.user


def test_staff_registration_rejected_with_password_but_no_email(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(client_for(personas.otto), join_body(email=None, reason="Phoned"))
    assert_rejected(response, before, counts(), "required", "email")


def test_staff_registration_rejected_when_contact_email_already_in_circle(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    MemberFactory(circle=personas.southwark, user=None, email="phoned@example.org")
    before = counts()
    response = post(
        client_for(personas.otto),
        join_body(email="PHONED@example.org", password=None, reason="Phoned"),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert response.json()["field"] == "email"
    assert counts() == before


def test_staff_registration_still_checks_age_and_postcode(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(
        client_for(personas.otto),
        join_body(email=None, password=None, reason="Phoned", postcode="EH1 1YZ"),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "postcode_outside_area"
    assert counts() == before


# --- Staff of another circle are not staff here ---------------------------------------------


def test_other_circle_coordinator_cannot_register_a_caller_here(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    """Clara coordinates Suffolk, not Southwark: giving a reason (a staff registration) must not
    quietly join Clara herself to Southwark under the caller's name."""
    before = counts()
    response = post(
        client_for(personas.clara),
        join_body(email=None, password=None, full_name="Ivy Ingram", reason="Phoned"),
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert counts() == before
    assert not Member.objects.filter(circle=personas.southwark, user=personas.clara.user).exists()


def test_other_circle_coordinator_cannot_register_someone_with_their_email(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(client_for(personas.clara), join_body(full_name="Ivy Ingram"))

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert counts() == before


def test_other_circle_coordinator_may_join_here_as_themselves(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(
        client_for(personas.clara),
        join_body(full_name="Clara Coordinator", email=None, password=None),
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["roles"] == ["member"]
    assert body["has_login"] is True
    assert body["email"] == "clara@example.org"
    assert body["joined_via"] == "online"
    member = Member.objects.get(pk=body["id"])
    assert member.circle == personas.southwark
    assert member.user == personas.clara.user
    event = AuditEvent.objects.get(member=member)
    assert event.action == "member.joined"
    assert event.actor == personas.clara.user
    # Her Suffolk roles are untouched and do not leak into Southwark.
    assert set(personas.clara.roles.values_list("role", flat=True)) == {"coordinator"}


def test_other_circle_coordinator_joining_here_still_meets_the_age_rule(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(
        client_for(personas.clara),
        join_body(email=None, password=None, date_of_birth=years_ago(40).isoformat()),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_young"
    assert counts() == before


# --- A signed-in helper joins as a member ---------------------------------------------------


def test_helper_joins_as_member_on_her_own_record(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(
        client_for(personas.hana),
        join_body(full_name="Hana Hughes", email=None, password=None, postcode="SE15 4AA"),
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == personas.hana.pk
    assert body["roles"] == ["member", "helper"]
    assert body["helper_id"] == personas.hana_helper.pk
    assert body["email"] == "hana@example.org"
    assert body["date_of_birth"] == years_ago(72).isoformat()
    after = counts()
    assert after["members"] == before["members"]
    assert after["users"] == before["users"]
    assert after["roles"] == before["roles"] + 1
    event = AuditEvent.objects.get(member=personas.hana, action="member.joined")
    assert event.actor == personas.hana.user


def test_helper_joining_twice_is_a_conflict(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    client = client_for(personas.hana)
    body = join_body(full_name="Hana Hughes", email=None, password=None)
    assert post(client, body).status_code == 201
    before = counts()

    again = post(client, body)

    assert again.status_code == 409
    assert again.json()["code"] == "already_member"
    assert counts() == before


def test_member_joining_again_is_a_conflict(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(client_for(personas.alice), join_body(email=None, password=None))
    assert response.status_code == 409
    assert response.json()["code"] == "already_member"
    assert counts() == before
    personas.alice.refresh_from_db()
    assert personas.alice.full_name == "Alice Archer"


def test_helper_giving_her_own_email_joins_herself(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(
        client_for(personas.hana),
        join_body(full_name="Hana Hughes", email="HANA@example.org", password=None),
    )
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == personas.hana.pk


def test_helper_cannot_sign_up_a_friend_over_her_own_record(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    """Signed in, a non-staff person can only join as themselves; a friend's email and password
    must not overwrite Hana's own name, phone and address."""
    before = counts()
    response = post(client_for(personas.hana), join_body())

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert counts() == before
    personas.hana.refresh_from_db()
    assert personas.hana.full_name == "Hana Hughes"
    assert personas.hana.phone == "+447700900003"


def test_helper_giving_a_reason_is_not_a_staff_registration(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(
        client_for(personas.hana),
        join_body(email=None, password=None, full_name="Ivy Ingram", call_reference="CALL-9"),
    )
    assert response.status_code == 403
    assert counts() == before


# --- Bad input: a 400 naming the field, and nothing written ---------------------------------


def assert_rejected(
    response: Any, before: dict[str, int], after: dict[str, int], code: str, field: str | None
) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if field is None:
        assert "field" not in body
    else:
        assert body["field"] == field
    assert after == before


@pytest.mark.parametrize(
    "field", ["full_name", "phone", "date_of_birth", "address_line1", "postcode"]
)
@pytest.mark.parametrize("who", [None, "otto"])
def test_join_rejected_when_required_field_missing(
    personas: Personas,
    client_for: ClientFor,
    join_body: Body,
    counts: Counts,
    field: str,
    who: str | None,
) -> None:
    extra = {"email": None, "password": None, "reason": "Phoned"} if who else {}
    before = counts()
    response = post(
        client_for(getattr(personas, who) if who else None), join_body(**extra, **{field: None})
    )
    assert_rejected(response, before, counts(), "required", field)


@pytest.mark.parametrize("field", ["email", "password"])
@pytest.mark.parametrize("how", ["missing", "blank", "null"])
def test_anonymous_join_rejected_without_email_or_password(
    personas: Personas,
    client_for: ClientFor,
    join_body: Body,
    counts: Counts,
    field: str,
    how: str,
) -> None:
    body = join_body(**{field: None})
    if how == "blank":
        body[field] = ""
    elif how == "null":
        body[field] = None
    before = counts()
    response = post(client_for(None), body)
    assert_rejected(response, before, counts(), "required", field)


@pytest.mark.parametrize("field", ["full_name", "phone", "address_line1", "postcode"])
@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_join_rejected_when_text_field_blank(
    personas: Personas,
    client_for: ClientFor,
    join_body: Body,
    counts: Counts,
    field: str,
    value: str,
) -> None:
    before = counts()
    response = post(client_for(None), join_body(**{field: value}))
    assert_rejected(response, before, counts(), "blank", field)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("date_of_birth", 19500101, "invalid"),
        ("date_of_birth", True, "invalid"),
        ("date_of_birth", ["1950-01-01"], "invalid"),
        ("full_name", ["Dora", "Dawson"], "invalid"),
        ("full_name", {"first": "Dora"}, "invalid"),
        ("full_name", True, "invalid"),
        ("postcode", {"outward": "SE1", "inward": "7PB"}, "invalid"),
        ("postcode", ["SE1 7PB"], "invalid"),
        ("phone", ["07700 900123"], "invalid"),
        ("address_line1", None, "null"),
        ("email", 12, "invalid"),
        ("email", ["dora@example.org"], "invalid"),
        ("password", {"p": 1}, "invalid"),
        ("reason", None, "null"),
        ("full_name", "Dora\x00Dawson", "null_characters_not_allowed"),
        ("postcode", "SE1\x007PB", "null_characters_not_allowed"),
    ],
)
def test_join_rejected_when_field_has_wrong_type(
    personas: Personas,
    client_for: ClientFor,
    join_body: Body,
    counts: Counts,
    field: str,
    value: Any,
    code: str,
) -> None:
    body = join_body()
    body[field] = value
    before = counts()
    response = post(client_for(None), body)
    assert_rejected(response, before, counts(), code, field)


@pytest.mark.parametrize(
    "value", ["1950-02-30", "1950-13-01", "yesterday", "01/02/1950", "", "1950-02-29"]
)
def test_join_rejected_when_date_of_birth_impossible(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, value: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(date_of_birth=value))
    assert_rejected(response, before, counts(), "invalid", "date_of_birth")


@pytest.mark.parametrize("days_ahead", [1, 365 * 30])
def test_join_rejected_when_date_of_birth_in_future(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, days_ahead: int
) -> None:
    born = timezone.localdate() + timedelta(days=days_ahead)
    before = counts()
    response = post(client_for(None), join_body(date_of_birth=born.isoformat()))
    assert_rejected(response, before, counts(), "date_of_birth_invalid", "date_of_birth")


@pytest.mark.parametrize("born", ["1800-01-01", "0001-01-01", years_ago(121).isoformat()])
def test_join_rejected_when_date_of_birth_implausibly_old(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, born: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(date_of_birth=born))
    assert_rejected(response, before, counts(), "date_of_birth_invalid", "date_of_birth")


def test_join_rejected_when_a_day_short_of_fifty(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    born = years_ago(50) + timedelta(days=1)
    before = counts()
    response = post(client_for(None), join_body(date_of_birth=born.isoformat()))
    assert_rejected(response, before, counts(), "too_young", "date_of_birth")


def test_join_rejected_when_too_young(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(client_for(None), join_body(date_of_birth=years_ago(49).isoformat()))
    assert_rejected(response, before, counts(), "too_young", "date_of_birth")
    assert "50" in response.json()["detail"]


@pytest.mark.parametrize("email", ["alice@example.org", "ALICE@Example.Org", " alice@example.org "])
def test_join_with_an_email_that_signs_in_asks_to_sign_in_first(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, email: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(email=email))
    assert_rejected(response, before, counts(), "email_has_login", "email")
    assert "sign in" in response.json()["detail"].lower()


@pytest.mark.parametrize(
    "email",
    [
        "alice@example.org",  # a member here
        "hana@example.org",  # a helper here
        "otto@example.org",  # an operator here
        "cora@example.org",  # a coordinator here
        "Sam@example.org",  # a member of Suffolk
        "clara@example.org",  # a coordinator of Suffolk
        "nobody-here@example.org",  # a login with no member record anywhere
    ],
)
def test_join_with_any_existing_login_gets_one_answer_that_reveals_nothing_else(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, email: str
) -> None:
    """Logins are installation-wide: whoever holds the email, and wherever, the person is asked
    to sign in and then join this circle too, in the same words, so nothing tells which."""
    UserFactory(email="nobody-here@example.org")
    before = counts()

    response = post(client_for(None), join_body(email=email))

    assert_rejected(response, before, counts(), "email_has_login", "email")
    assert response.json() == {
        "code": "email_has_login",
        "detail": (
            "There is already a Circle login with this email address. Sign in with it first, "
            "then you can join this circle too."
        ),
        "field": "email",
    }


def test_a_suffolk_member_signed_in_joins_southwark_too(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    # What the answer above asks for: signed in, the same login joins a second circle.
    response = post(client_for(personas.sam), join_body(email=None, password=None))

    assert response.status_code == 201, response.json()
    member = Member.objects.get(pk=response.json()["id"])
    assert (member.circle, member.user) == (personas.southwark, personas.sam.user)
    assert Member.objects.filter(user=personas.sam.user).count() == 2


@pytest.mark.parametrize("email", ["not-an-email", "dora@", "@example.org", "dora example.org"])
def test_join_rejected_when_email_malformed(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, email: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(email=email))
    assert_rejected(response, before, counts(), "invalid", "email")


@pytest.mark.parametrize(
    "password",
    [
        "short1",
        "password123",
        "12345678901",
        "dora@example.org",
        "   ",
        " " * 8,
        " " * 40,
        "\t" * 9,
    ],
)
def test_join_rejected_when_password_weak(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, password: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(password=password))
    assert_rejected(response, before, counts(), "password_too_weak", "password")


@pytest.mark.parametrize("password", ["Dora Dawson", "DoraDawson1"])
def test_join_rejected_when_password_is_the_persons_name(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, password: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(password=password))
    assert_rejected(response, before, counts(), "password_too_weak", "password")


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+44", "0770090012345678", "+999 1234"])
def test_join_rejected_when_phone_invalid(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, phone: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(phone=phone))
    assert_rejected(response, before, counts(), "phone_invalid", "phone")


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("020 7946 0018", "+442079460018"),
        ("+44 (0)20 7946 0018", "+442079460018"),
        ("07911-123-456", "+447911123456"),
        ("+33 1 42 68 53 00", "+33142685300"),
    ],
)
def test_join_stores_phone_as_e164(
    personas: Personas, client_for: ClientFor, join_body: Body, phone: str, stored: str
) -> None:
    response = post(client_for(None), join_body(phone=phone))
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == stored


@pytest.mark.parametrize("postcode", ["SE1", "12345", "SE1 7PBX", "SEI 7PB", "S£1 7PB", "sé1 7pb"])
def test_join_rejected_when_postcode_malformed(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, postcode: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(postcode=postcode))
    assert_rejected(response, before, counts(), "postcode_invalid", "postcode")


@pytest.mark.parametrize("postcode", ["BT1 1AA", "ZZ9 9ZZ", "GY1 1AA"])
def test_join_rejected_when_postcode_sector_unknown(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, postcode: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(postcode=postcode))
    assert_rejected(response, before, counts(), "postcode_unknown", "postcode")


@pytest.mark.parametrize("postcode", ["EH1 1YZ", "IP4 1AA"])
def test_join_rejected_when_postcode_outside_area(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, postcode: str
) -> None:
    before = counts()
    response = post(client_for(None), join_body(postcode=postcode))
    assert_rejected(response, before, counts(), "postcode_outside_area", "postcode")


def test_join_rejected_with_unknown_field(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(client_for(None), join_body(surname="Dawson"))
    assert_rejected(response, before, counts(), "unknown_field", "surname")


@pytest.mark.parametrize("body", [[], ["full_name"], "Dora", 42, None, True])
def test_join_rejected_when_body_is_not_an_object(
    personas: Personas, client_for: ClientFor, counts: Counts, body: Any
) -> None:
    before = counts()
    response = client_for(None).post(join_url(), json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    assert counts() == before


@pytest.mark.parametrize("raw", ['{"full_name": "Dora"', "{'a': 1}", "not json", "\xff"])
def test_join_rejected_when_json_malformed(
    personas: Personas, client_for: ClientFor, counts: Counts, raw: str
) -> None:
    before = counts()
    response = client_for(None).post(join_url(), raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert counts() == before


def test_join_with_empty_body_names_the_first_missing_field(
    personas: Personas, client_for: ClientFor, counts: Counts
) -> None:
    before = counts()
    response = client_for(None).post(join_url(), "", content_type="application/json")
    assert_rejected(response, before, counts(), "required", "full_name")
    assert {error["field"] for error in response.json()["errors"]} == {
        "full_name",
        "phone",
        "date_of_birth",
        "address_line1",
        "postcode",
    }


def test_join_rejected_when_body_is_a_form(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = client_for(None).post(join_url(), join_body(), format="multipart")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert counts() == before


def test_join_unknown_circle_is_not_found(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(client_for(None), join_body(), slug="atlantis")
    assert response.status_code == 404
    assert response.json()["code"] == "circle_not_found"
    assert counts() == before


@pytest.mark.parametrize(
    ("field", "length"),
    [
        ("full_name", 151),
        ("address_line1", 201),
        ("phone", 41),
        ("postcode", 13),
        ("password", 201),
        ("reason", 501),
        ("call_reference", 101),
    ],
)
def test_join_rejected_when_input_too_long(
    personas: Personas,
    client_for: ClientFor,
    join_body: Body,
    counts: Counts,
    field: str,
    length: int,
) -> None:
    before = counts()
    response = post(client_for(None), join_body(**{field: "7" * length}))
    assert_rejected(response, before, counts(), "max_length", field)


def test_join_rejected_when_email_too_long(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    before = counts()
    response = post(client_for(None), join_body(email="d" * 250 + "@example.org"))
    assert response.status_code == 400
    assert response.json()["field"] == "email"
    assert counts() == before


def test_join_keeps_names_at_the_longest_allowed(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    name = "Dora " + "D" * 145
    response = post(client_for(None), join_body(full_name=name, address_line1="A" * 200))
    assert response.status_code == 201, response.json()
    assert response.json()["full_name"] == name


def test_join_trims_whitespace_around_names_and_address(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    response = post(
        client_for(None),
        join_body(full_name="  Dora Dawson \n", address_line1="\t12 Tabard Street  "),
    )
    assert response.status_code == 201, response.json()
    assert response.json()["full_name"] == "Dora Dawson"
    assert response.json()["address_line1"] == "12 Tabard Street"


@pytest.mark.parametrize(
    "junk",
    [
        {"full_name": "x" * 10_000},
        {"postcode": "\u00a0" * 5},
        {"phone": "\u0661\u0662\u0663"},
        {"date_of_birth": "9" * 50},
        {"date_of_birth": "-0001-01-01"},
        {"email": "dora@" + "x" * 300 + ".org"},
        {"phone": "+" + "4" * 39},
    ],
)
def test_junk_input_is_a_400_never_a_500(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, junk: Any
) -> None:
    before = counts()
    response = post(client_for(None), join_body(**junk))
    assert response.status_code == 400, response.content
    assert response.json()["code"]
    assert counts() == before


@pytest.mark.parametrize(
    "field", ["full_name", "address_line1", "phone", "postcode", "email", "password", "reason"]
)
def test_lone_surrogate_in_text_is_a_400_never_a_500(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts, field: str
) -> None:
    # json.dumps escapes the lone surrogate as \ud800, which is valid JSON but not valid UTF-8.
    raw = json.dumps(join_body(**{field: "Dora\ud800"}))
    before = counts()
    response = client_for(None).post(join_url(), raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert counts() == before


def test_smaller_circle_min_age_is_respected(
    personas: Personas, client_for: ClientFor, join_body: Body
) -> None:
    personas.southwark.min_age = 60
    personas.southwark.save(update_fields=["min_age"])
    response = post(client_for(None), join_body(date_of_birth=years_ago(59).isoformat()))
    assert response.status_code == 400
    assert response.json()["code"] == "too_young"
    assert "60" in response.json()["detail"]


# --- Two sign-ups with one email ------------------------------------------------------------


def test_second_online_join_with_the_same_email_is_refused(
    personas: Personas, client_for: ClientFor, join_body: Body, counts: Counts
) -> None:
    assert post(client_for(None), join_body(email="twin@example.org")).status_code == 201
    before = counts()

    response = post(
        client_for(None),
        join_body(email="TWIN@example.org", full_name="Other Twin", phone="07911 123457"),
    )

    assert_rejected(response, before, counts(), "email_has_login", "email")


def test_unique_index_refuses_an_email_that_slipped_past_the_check(
    personas: Personas,
    client_for: ClientFor,
    join_body: Body,
    counts: Counts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database is the backstop when a concurrent sign-up passed the Python check."""
    assert post(client_for(None), join_body(email="twin@example.org")).status_code == 201
    # As if the other request checked before this one committed.
    monkeypatch.setattr(services, "email_check_free", lambda *, email, **_: email.strip().lower())
    before = counts()

    response = post(client_for(None), join_body(email="Twin@Example.org"))

    assert_rejected(response, before, counts(), "email_has_login", "email")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_online_joins_with_one_email_make_one_member(
    join_body: Body, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to show")
    from tests.factories import CircleFactory

    CircleFactory(slug="southwark", name="Southwark Circle", postcode="SE1 7PB")
    checked = threading.Barrier(2, timeout=30)
    real_check = services.email_check_free

    def check_then_wait(*, email: str, circle: Any = None, joining: bool = False) -> str:
        # Both requests pass the check before either inserts: the race the index must catch.
        result = real_check(email=email, circle=circle, joining=joining)
        checked.wait()
        return result

    monkeypatch.setattr(services, "email_check_free", check_then_wait)
    statuses: list[int] = []
    codes: list[str] = []

    def join(phone: str) -> None:
        try:
            response = APIClient().post(
                join_url(), join_body(email="race@example.org", phone=phone), format="json"
            )
            statuses.append(response.status_code)
            codes.append(response.json().get("code", ""))
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(p,)) for p in ("07911 123458", "07911 123459")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 400]
    assert "email_has_login" in codes
    assert User.objects.filter(email="race@example.org").count() == 1
    assert Member.objects.filter(email="race@example.org").count() == 1
    assert AuditEvent.objects.filter(action="member.joined").count() == 1
    assert Role.objects.filter(role=RoleName.MEMBER).count() == 1
    assert Member.objects.get(email="race@example.org").joined_via == JoinedVia.ONLINE
