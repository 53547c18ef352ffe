"""`POST /api/v1/circles/{slug}/helpers/`: anyone signs up as a helper, or a signed-in person
adds a helper profile. Bad input is a 400 naming the field, and writes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from circle.models import Category
from helpers import services as helper_services
from helpers.models import AvailabilitySlot, Helper, HelperSkill
from members.models import AuditEvent, Member, RoleName, User
from tests.conftest import Personas
from tests.factories import PASSWORD, HelperFactory, UserFactory
from tests.helpers.conftest import assert_error, row_counts, signup_url

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Any], APIClient]
Body = Callable[..., dict[str, Any]]


# --- A new person signs up ----------------------------------------------------------------------


def test_anonymous_signup_creates_helper_with_login(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    response = client_for(None).post(signup_url(), new_helper_body(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    helper = Helper.objects.get(pk=body["id"])
    assert body["member_id"] == helper.member_id
    assert body["circle"] == "southwark"
    assert body["full_name"] == "Harriet Helper"
    assert body["kind"] == "volunteer"
    assert body["skills"] == ["gardening", "it-help"]
    assert body["travel_radius_km"] == "3.5"
    assert body["vetting_level"] == "none"
    assert body["vetting"] is None
    assert body["suspended"] is False
    assert body["availability"] == [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 3, "start": "14:00", "end": "17:30"},
    ]
    # Only the district leaves the server: a helper's full postcode is nearly their address.
    assert body["postcode_district"] == "SE1"
    assert "postcode" not in body
    assert "SE1 7PB" not in response.content.decode()

    member = helper.member
    assert member.circle == personas.southwark
    assert member.phone == "+447912345678"
    assert member.email == "harriet@example.org"
    assert member.joined_via == "helper_signup"
    assert helper.postcode == "SE1 7PB"


def test_anonymous_signup_login_works_and_has_only_the_helper_role(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    created = client_for(None).post(signup_url(), new_helper_body(), format="json")
    assert created.status_code == 201, created.content

    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/",
        {"email": "Harriet@Example.org", "password": "Gardens-and-Gates-2024"},
        format="json",
    )
    assert token.status_code == 200, token.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    me = client.get("/api/v1/me/").json()

    assert me["email"] == "harriet@example.org"
    assert len(me["circles"]) == 1
    (southwark,) = me["circles"]
    assert southwark["circle"] == "southwark"
    assert southwark["roles"] == ["helper"]
    assert southwark["member_id"] == created.json()["member_id"]
    assert southwark["helper_id"] == created.json()["id"]
    # The new helper can read their own profile with that login.
    assert client.get(f"/api/v1/helpers/{created.json()['id']}/").status_code == 200


def test_anonymous_signup_writes_audit_row(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    response = client_for(None).post(signup_url(), new_helper_body(), format="json")

    member = Member.objects.get(pk=response.json()["member_id"])
    event = AuditEvent.objects.get(action="helper.signed_up")
    assert event.circle == personas.southwark
    assert event.member == member
    # Someone signing up acts for themselves, through the login just made.
    assert event.actor == member.user
    assert event.data["kind"] == "volunteer"
    assert sorted(event.data["skills"]) == ["gardening", "it-help"]


def test_signup_without_availability_means_any_time(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    body = new_helper_body(kind="paid")
    del body["availability"]

    response = client_for(None).post(signup_url(), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["availability"] == []
    assert response.json()["kind"] == "paid"
    assert AvailabilitySlot.objects.count() == 0


def test_signup_with_empty_availability_means_any_time(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    response = client_for(None).post(signup_url(), new_helper_body(availability=[]), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["availability"] == []


def test_signup_repeated_skill_is_stored_once(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    response = client_for(None).post(
        signup_url(), new_helper_body(skills=["gardening", "diy", "gardening"]), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["skills"] == ["diy", "gardening"]
    assert HelperSkill.objects.filter(helper_id=response.json()["id"]).count() == 2


def test_signup_availability_comes_back_in_week_order(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    slots = [
        {"weekday": 4, "start": "10:00", "end": "11:00"},
        {"weekday": 1, "start": "15:00", "end": "16:00"},
        {"weekday": 1, "start": "08:00", "end": "09:30"},
    ]

    response = client_for(None).post(
        signup_url(), new_helper_body(availability=slots), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["availability"] == [slots[2], slots[1], slots[0]]


def test_signup_overlapping_windows_on_one_day_are_joined(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    # Matching asks whether a task fits one of the helper's windows; Monday 09-12 and 11-14
    # mean "Monday 09-14", so a 10:00-13:00 task must fit. Stored as one window, it does.
    slots = [
        {"weekday": 0, "start": "11:00", "end": "14:00"},
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "14:00", "end": "15:00"},
        {"weekday": 0, "start": "09:30", "end": "10:00"},
        {"weekday": 2, "start": "09:00", "end": "10:00"},
        {"weekday": 2, "start": "09:00", "end": "10:00"},
    ]

    response = client_for(None).post(
        signup_url(), new_helper_body(availability=slots), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["availability"] == [
        {"weekday": 0, "start": "09:00", "end": "15:00"},
        {"weekday": 2, "start": "09:00", "end": "10:00"},
    ]
    assert AvailabilitySlot.objects.count() == 2


def test_signup_separate_windows_on_one_day_stay_separate(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    slots = [
        {"weekday": 5, "start": "09:00", "end": "11:00"},
        {"weekday": 5, "start": "11:30", "end": "13:00"},
    ]

    response = client_for(None).post(
        signup_url(), new_helper_body(availability=slots), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["availability"] == slots


def test_signup_in_unknown_circle_is_not_found(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    before = row_counts()

    response = client_for(None).post(signup_url("atlantis"), new_helper_body(), format="json")

    assert_error(response, 404, "circle_not_found")
    assert row_counts() == before


# --- A signed-in person adds a helper profile --------------------------------------------------


def test_member_adds_helper_profile_to_her_member_record(
    personas: Personas, client_for: ClientFor
) -> None:
    alice = personas.alice
    users_before = User.objects.count()
    members_before = Member.objects.count()

    response = client_for(alice).post(
        signup_url(),
        {"kind": "volunteer", "skills": ["companionship"], "travel_radius_km": 2},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["member_id"] == alice.pk
    assert body["full_name"] == "Alice Archer"
    assert body["skills"] == ["companionship"]
    assert body["travel_radius_km"] == "2.0"
    # Her home postcode and phone stand in for the ones she did not give.
    assert body["postcode_district"] == "SE1"
    helper = Helper.objects.get(pk=body["id"])
    assert helper.postcode == "SE1 2AA"
    assert helper.member.phone == "+447700900001"
    # No second login or member record.
    assert User.objects.count() == users_before
    assert Member.objects.count() == members_before
    event = AuditEvent.objects.get(action="helper.signed_up")
    assert event.actor == alice.user
    assert event.member == alice


def test_member_turned_helper_shows_both_roles_in_me(
    personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.alice)
    created = client.post(
        signup_url(),
        {"kind": "paid", "skills": ["diy"], "travel_radius_km": "4"},
        format="json",
    )
    assert created.status_code == 201, created.content

    me = client.get("/api/v1/me/").json()

    (southwark,) = me["circles"]
    assert southwark["member_id"] == personas.alice.pk
    assert southwark["roles"] == ["member", "helper"]
    assert southwark["helper_id"] == created.json()["id"]


def test_member_helper_profile_may_travel_from_another_postcode(
    personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.alice).post(
        signup_url(),
        {"kind": "volunteer", "skills": ["diy"], "travel_radius_km": 3, "postcode": "SE5 8AB"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["postcode_district"] == "SE5"
    personas.alice.refresh_from_db()
    assert personas.alice.postcode == "SE1 2AA"


def test_member_signing_up_twice_is_conflict(personas: Personas, client_for: ClientFor) -> None:
    client = client_for(personas.alice)
    body = {"kind": "volunteer", "skills": ["diy"], "travel_radius_km": 3}
    assert client.post(signup_url(), body, format="json").status_code == 201
    before = row_counts()

    response = client.post(signup_url(), body, format="json")

    assert_error(response, 409, "already_helper")
    assert row_counts() == before


def test_existing_helper_signing_up_again_is_conflict(
    personas: Personas, client_for: ClientFor
) -> None:
    before = row_counts()

    response = client_for(personas.hana).post(
        signup_url(), {"kind": "paid", "skills": ["diy"], "travel_radius_km": 3}, format="json"
    )

    assert_error(response, 409, "already_helper")
    assert row_counts() == before


def test_member_double_submit_race_is_conflict_not_error(
    personas: Personas, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two taps on "Sign up": the second request passes the "already a helper?" check before the
    # first commits. The one-profile-per-member constraint must turn it into a clean 409.
    resolve = helper_services.postcode_resolve_in_area

    def first_request_commits_meanwhile(**kwargs: Any) -> Any:
        HelperFactory(member=personas.alice, skills=["diy"])
        return resolve(**kwargs)

    monkeypatch.setattr(
        helper_services, "postcode_resolve_in_area", first_request_commits_meanwhile
    )

    response = client_for(personas.alice).post(
        signup_url(),
        {"kind": "paid", "skills": ["gardening"], "travel_radius_km": 3},
        format="json",
    )

    assert_error(response, 409, "already_helper")
    helper = Helper.objects.get(member=personas.alice)
    assert sorted(helper.skill_rows.values_list("category__slug", flat=True)) == ["diy"]
    assert not AuditEvent.objects.filter(action="helper.signed_up").exists()


def test_person_from_another_circle_gets_a_member_record_here(
    personas: Personas, client_for: ClientFor
) -> None:
    sam = personas.sam
    users_before = User.objects.count()

    response = client_for(sam).post(
        signup_url(),
        {
            "kind": "volunteer",
            "skills": ["lifts"],
            "travel_radius_km": 6,
            "postcode": "SE15 4AA",
            "phone": "07400 123456",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    member = Member.objects.get(pk=response.json()["member_id"])
    assert member.circle == personas.southwark
    assert member.user == sam.user
    assert member.full_name == "Sam Smith"
    assert member.postcode == "SE15 4AA"
    assert list(member.roles.values_list("role", flat=True)) == [RoleName.HELPER]
    assert User.objects.count() == users_before
    # His Suffolk membership is untouched, and /me shows both circles.
    me = client_for(sam).get("/api/v1/me/").json()
    roles = {c["circle"]: c["roles"] for c in me["circles"]}
    assert roles == {"southwark": ["helper"], "suffolk": ["member"]}


def test_person_from_another_circle_must_give_a_postcode_here(
    personas: Personas, client_for: ClientFor
) -> None:
    before = row_counts()

    response = client_for(personas.sam).post(
        signup_url(),
        {"kind": "volunteer", "skills": ["diy"], "travel_radius_km": 6, "phone": "07400123456"},
        format="json",
    )

    assert_error(response, 400, "required", "postcode")
    assert row_counts() == before


def test_person_from_another_circle_refused_with_home_postcode_outside_area(
    personas: Personas, client_for: ClientFor
) -> None:
    before = row_counts()

    response = client_for(personas.sam).post(
        signup_url(),
        {
            "kind": "volunteer",
            "skills": ["diy"],
            "travel_radius_km": 6,
            "postcode": "IP4 1AA",
            "phone": "07400123456",
        },
        format="json",
    )

    assert_error(response, 400, "postcode_outside_area", "postcode")
    assert row_counts() == before


def test_person_from_another_circle_cannot_use_that_circles_categories(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    Category.objects.create(circle=personas.suffolk, slug="boat-repair", name="Boat repair")
    before = row_counts()

    response = client_for(None).post(
        signup_url(), new_helper_body(skills=["gardening", "boat-repair"]), format="json"
    )

    assert_error(response, 400, "unknown_category", "skills")
    assert row_counts() == before


# --- Bad input: 400 naming the field, nothing written ------------------------------------------


@pytest.mark.parametrize("missing", ["full_name", "email", "password", "phone", "postcode"])
def test_anonymous_signup_rejected_without_required_field(
    personas: Personas, client_for: ClientFor, new_helper_body: Body, missing: str
) -> None:
    body = new_helper_body()
    del body[missing]
    before = row_counts()

    response = client_for(None).post(signup_url(), body, format="json")

    assert_error(response, 400, "required", missing)
    assert row_counts() == before


@pytest.mark.parametrize("missing", ["kind", "skills", "travel_radius_km"])
def test_signup_rejected_without_profile_field(
    personas: Personas, client_for: ClientFor, new_helper_body: Body, missing: str
) -> None:
    body = new_helper_body()
    del body[missing]
    before = row_counts()

    response = client_for(None).post(signup_url(), body, format="json")

    assert_error(response, 400, "required", missing)
    assert row_counts() == before


@pytest.mark.parametrize("blank", ["full_name", "password", "phone", "postcode"])
def test_anonymous_signup_rejected_with_blank_field(
    personas: Personas, client_for: ClientFor, new_helper_body: Body, blank: str
) -> None:
    before = row_counts()

    response = client_for(None).post(signup_url(), new_helper_body(**{blank: "   "}), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == blank
    assert row_counts() == before


@pytest.mark.parametrize("email", ["alice@example.org", "hana@example.org", "clara@example.org"])
def test_signup_with_an_email_that_signs_in_asks_to_sign_in_first_and_says_nothing_else(
    personas: Personas, client_for: ClientFor, new_helper_body: Body, email: str
) -> None:
    # A member here, a helper here, staff of another circle: one answer for all.
    before = row_counts()

    response = client_for(None).post(signup_url(), new_helper_body(email=email), format="json")

    assert_error(response, 400, "email_has_login", "email")
    assert "Sign in with it first" in response.json()["detail"]
    assert row_counts() == before


# Each case: the changes to a valid body, and the field the error must name.
BAD_INPUT: dict[str, tuple[dict[str, Any], str]] = {
    "unknown category": ({"skills": ["gardening", "knitting"]}, "skills"),
    "empty skills": ({"skills": []}, "skills"),
    "skills a string": ({"skills": "gardening"}, "skills"),
    "skills an object": ({"skills": {"gardening": True}}, "skills"),
    "skill not a slug": ({"skills": ["Gardening & Lawns"]}, "skills"),
    "skill null": ({"skills": [None]}, "skills"),
    "too many skills": ({"skills": ["diy"] * 51}, "skills"),
    "negative radius": ({"travel_radius_km": -5}, "travel_radius_km"),
    "zero radius": ({"travel_radius_km": 0}, "travel_radius_km"),
    "radius just over 50": ({"travel_radius_km": "50.1"}, "travel_radius_km"),
    "huge radius": ({"travel_radius_km": 1000}, "travel_radius_km"),
    "absurd radius": ({"travel_radius_km": 10**40}, "travel_radius_km"),
    "radius a word": ({"travel_radius_km": "far"}, "travel_radius_km"),
    "radius too precise": ({"travel_radius_km": "2.25"}, "travel_radius_km"),
    "radius true": ({"travel_radius_km": True}, "travel_radius_km"),
    "radius null": ({"travel_radius_km": None}, "travel_radius_km"),
    "kind unknown": ({"kind": "mercenary"}, "kind"),
    "kind a list": ({"kind": ["volunteer"]}, "kind"),
    "weekday 7": (
        {"availability": [{"weekday": 7, "start": "09:00", "end": "10:00"}]},
        "availability.0.weekday",
    ),
    "weekday -1": (
        {"availability": [{"weekday": -1, "start": "09:00", "end": "10:00"}]},
        "availability.0.weekday",
    ),
    "weekday a name": (
        {"availability": [{"weekday": "Monday", "start": "09:00", "end": "10:00"}]},
        "availability.0.weekday",
    ),
    "start after end": (
        {
            "availability": [
                {"weekday": 1, "start": "09:00", "end": "10:00"},
                {"weekday": 2, "start": "15:00", "end": "11:00"},
            ]
        },
        "availability.1.end",
    ),
    "start equals end": (
        {"availability": [{"weekday": 2, "start": "11:00", "end": "11:00"}]},
        "availability.0.end",
    ),
    "hour 25": (
        {"availability": [{"weekday": 2, "start": "25:00", "end": "26:00"}]},
        "availability.0.start",
    ),
    "end 24:00": (
        {"availability": [{"weekday": 2, "start": "20:00", "end": "24:00"}]},
        "availability.0.end",
    ),
    "hour without its leading zero": (
        {"availability": [{"weekday": 2, "start": "9:00", "end": "10:00"}]},
        "availability.0.start",
    ),
    "time with seconds": (
        {"availability": [{"weekday": 2, "start": "09:00:00", "end": "10:00"}]},
        "availability.0.start",
    ),
    "time a number": (
        {"availability": [{"weekday": 2, "start": 9, "end": 10}]},
        "availability.0.start",
    ),
    "slot missing end": (
        {"availability": [{"weekday": 2, "start": "09:00"}]},
        "availability.0.end",
    ),
    "slot unknown field": (
        {"availability": [{"weekday": 2, "start": "09:00", "end": "10:00", "day": "Tue"}]},
        "availability.0.day",
    ),
    "slot not an object": ({"availability": ["Mondays 9-5"]}, "availability.0"),
    "availability an object": (
        {"availability": {"weekday": 2, "start": "09:00", "end": "10:00"}},
        "availability",
    ),
    "availability a string": ({"availability": "weekends"}, "availability"),
    "availability null": ({"availability": None}, "availability"),
    "too many windows": (
        {
            "availability": [
                {"weekday": day, "start": f"{hour:02d}:00", "end": f"{hour:02d}:30"}
                for day in range(7)
                for hour in range(24)
            ]
        },
        "availability",
    ),
    "unknown field": ({"skils": ["diy"]}, "skils"),
    "certificate smuggled in": (
        {"dbs_certificate_number": "123456789012"},
        "dbs_certificate_number",
    ),
    "email taken": ({"email": "alice@example.org"}, "email"),
    "email taken in other case": ({"email": "ALICE@Example.org"}, "email"),
    "email malformed": ({"email": "harriet.example.org"}, "email"),
    "weak password": ({"password": "password"}, "password"),
    "password same as email": ({"password": "harriet@example.org"}, "password"),
    "postcode outside area": ({"postcode": "IP4 1AA"}, "postcode"),
    "postcode malformed": ({"postcode": "not a postcode"}, "postcode"),
    "postcode unknown": ({"postcode": "ZZ9 9ZZ"}, "postcode"),
    "postcode a number": ({"postcode": 12345}, "postcode"),
    "phone malformed": ({"phone": "call me maybe"}, "phone"),
    "name too long": ({"full_name": "A" * 151}, "full_name"),
}


@pytest.mark.parametrize(("changes", "field"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_signup_rejects_bad_input_and_writes_nothing(
    personas: Personas,
    client_for: ClientFor,
    new_helper_body: Body,
    changes: dict[str, Any],
    field: str,
) -> None:
    before = row_counts()

    response = client_for(None).post(signup_url(), new_helper_body(**changes), format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) >= {"code", "detail", "field"}
    assert body["field"] == field or body["field"].startswith(f"{field}."), body
    assert row_counts() == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"skills": ["gardening", "knitting"]}, "unknown_category"),
        ({"skills": []}, "required"),
        ({"skills": "gardening"}, "not_a_list"),
        ({"travel_radius_km": "far"}, "invalid"),
        ({"travel_radius_km": 0}, "min_value"),
        ({"travel_radius_km": 51}, "max_value"),
        ({"kind": "mercenary"}, "invalid_choice"),
        ({"availability": "weekends"}, "not_a_list"),
        ({"skils": ["diy"]}, "unknown_field"),
        ({"email": "alice@example.org"}, "email_has_login"),
        ({"email": "Sam@example.org"}, "email_has_login"),
        ({"password": "password"}, "password_too_weak"),
        ({"password": " " * 12}, "required"),
        ({"postcode": "IP4 1AA"}, "postcode_outside_area"),
    ],
)
def test_signup_error_codes_are_stable(
    personas: Personas,
    client_for: ClientFor,
    new_helper_body: Body,
    changes: dict[str, Any],
    code: str,
) -> None:
    response = client_for(None).post(signup_url(), new_helper_body(**changes), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code


def test_signup_email_taken_by_phone_member_of_this_circle(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    # Bob's contact email is on his member record; nobody else may sign up with it here.
    Member.objects.filter(pk=personas.bob.pk).update(user=None, email="bobby@example.org")
    before = row_counts()

    response = client_for(None).post(
        signup_url(), new_helper_body(email="bobby@example.org"), format="json"
    )

    assert_error(response, 400, "email_taken", "email")
    assert row_counts() == before


def test_signup_email_race_is_email_has_login_not_server_error(
    personas: Personas,
    client_for: ClientFor,
    new_helper_body: Body,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two sign-ups with one email: the second passes the "is it free?" check just before the
    # first commits its login. The unique index refuses it; the answer matches the usual one.
    check = helper_services.email_check_free

    def other_signup_commits_meanwhile(**kwargs: Any) -> str:
        email = check(**kwargs)
        UserFactory(email=email)
        return email

    monkeypatch.setattr(helper_services, "email_check_free", other_signup_commits_meanwhile)
    before = row_counts()

    response = client_for(None).post(signup_url(), new_helper_body(), format="json")

    assert_error(response, 400, "email_has_login", "email")
    assert row_counts() == {**before, "User": before["User"] + 1}


def test_signup_rejects_malformed_json(personas: Personas, client_for: ClientFor) -> None:
    before = row_counts()

    response = client_for(None).post(
        signup_url(), data='{"kind": "volunteer", ', content_type="application/json"
    )

    assert_error(response, 400, "malformed_json")
    assert row_counts() == before


@pytest.mark.parametrize(
    "raw",
    ['["volunteer"]', '"volunteer"', "42", '{"travel_radius_km": NaN}'],
    ids=["list", "string", "number", "nan"],
)
def test_signup_rejects_body_that_is_not_an_object(
    personas: Personas, client_for: ClientFor, raw: str
) -> None:
    before = row_counts()

    response = client_for(None).post(signup_url(), data=raw, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid_body", "malformed_json"}
    assert row_counts() == before


def test_signup_rejects_null_body_as_not_an_object(
    personas: Personas, client_for: ClientFor
) -> None:
    before = row_counts()

    response = client_for(None).post(signup_url(), data="null", content_type="application/json")

    assert row_counts() == before
    assert_error(response, 400, "invalid_body")


def test_signup_rejects_form_encoded_body(personas: Personas, client_for: ClientFor) -> None:
    before = row_counts()

    response = client_for(None).post(signup_url(), {"kind": "volunteer"}, format="multipart")

    assert_error(response, 415, "unsupported_media_type")
    assert row_counts() == before


def test_member_signup_rejected_with_bad_phone_writes_nothing(
    personas: Personas, client_for: ClientFor
) -> None:
    before = row_counts()

    response = client_for(personas.alice).post(
        signup_url(),
        {"kind": "volunteer", "skills": ["diy"], "travel_radius_km": 3, "phone": "12"},
        format="json",
    )

    assert_error(response, 400, "phone_invalid", "phone")
    assert row_counts() == before


def test_signup_with_bad_token_is_unauthorised(personas: Personas, new_helper_body: Body) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    before = row_counts()

    response = client.post(signup_url(), new_helper_body(), format="json")

    assert response.status_code == 401
    assert row_counts() == before


def test_signed_up_helper_cannot_sign_in_with_factory_password(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    # The password given is the one stored: another one does not open the account.
    client_for(None).post(signup_url(), new_helper_body(), format="json")

    response = APIClient().post(
        "/api/v1/auth/token/",
        {"email": "harriet@example.org", "password": PASSWORD},
        format="json",
    )

    assert_error(response, 400, "invalid_credentials")


# --- Real concurrency (PostgreSQL: SQLite serialises writers, so there is no race to see) -------


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_with_one_email_make_one_helper(
    personas: Personas, client_for: ClientFor, new_helper_body: Body
) -> None:
    body = new_helper_body()

    def sign_up() -> Any:
        return client_for(None).post(signup_url(), body, format="json")

    responses = run_together(sign_up, sign_up)

    assert sorted(r.status_code for r in responses) == [201, 400], [r.content for r in responses]
    refused = next(r for r in responses if r.status_code == 400)
    assert refused.json()["code"] == "email_has_login"
    assert User.objects.filter(email="harriet@example.org").count() == 1
    assert Helper.objects.filter(member__email="harriet@example.org").count() == 1
    assert AuditEvent.objects.filter(action="helper.signed_up").count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_by_one_member_make_one_profile(
    personas: Personas, client_for: ClientFor
) -> None:
    body = {"kind": "volunteer", "skills": ["diy"], "travel_radius_km": 3}

    def sign_up() -> Any:
        return client_for(personas.alice).post(signup_url(), body, format="json")

    responses = run_together(sign_up, sign_up)

    assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
    assert Helper.objects.filter(member=personas.alice).count() == 1
    assert AuditEvent.objects.filter(action="helper.signed_up").count() == 1
