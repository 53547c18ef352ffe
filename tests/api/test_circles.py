"""Circles: the public list and detail, and the createcircle and createstaff commands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from circle.models import Category, Circle
from circle.postcodes import POSTCODE_ATTRIBUTION
from members.models import AuditEvent, Member, Role, User
from tests.api.checks import assert_error
from tests.conftest import Personas
from tests.factories import PASSWORD

# DESIGN.md's default categories: shopping handles money, lifts put a member in a car.
DEFAULT_VETTING = {
    "odd-jobs": "basic",
    "gardening": "basic",
    "diy": "basic",
    "it-help": "basic",
    "paperwork": "basic",
    "companionship": "basic",
    "shopping": "enhanced",
    "lifts": "enhanced",
}
GBP_10 = {"amount": "10.00", "currency": "GBP"}


# --- The API ------------------------------------------------------------------------------


def test_circle_list_is_public(personas: Personas, api: APIClient) -> None:
    response = api.get("/api/v1/circles/")

    assert response.status_code == 200
    circles = {circle["slug"]: circle for circle in response.json()}
    assert set(circles) == {"southwark", "suffolk"}
    southwark = circles["southwark"]
    assert southwark["name"] == "Southwark Circle"
    assert southwark["membership_fee"] == GBP_10
    assert southwark["token_price"] == GBP_10
    assert southwark["token_minutes"] == 60
    assert southwark["min_age"] == 50
    assert southwark["billing_increment_minutes"] == 30
    assert "categories" not in southwark


def test_circle_detail_is_public_with_design_defaults(personas: Personas, api: APIClient) -> None:
    response = api.get("/api/v1/circles/southwark/")

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "southwark"
    assert body["centre_postcode"] == "SE1 7PB"
    assert body["membership_fee"] == GBP_10
    assert body["token_price"] == GBP_10
    assert body["token_minutes"] == 60
    assert {c["slug"]: c["vetting_level"] for c in body["categories"]} == DEFAULT_VETTING
    assert len(body["categories"]) == len(DEFAULT_VETTING)
    assert all(set(c) == {"slug", "name", "vetting_level"} for c in body["categories"])
    assert body["postcode_attribution"] == POSTCODE_ATTRIBUTION
    assert "Contains OS data © Crown copyright" in body["postcode_attribution"]


def test_circle_detail_shows_a_coordinators_change(personas: Personas, api: APIClient) -> None:
    Category.objects.filter(circle=personas.suffolk, slug="diy").update(vetting_level="enhanced")

    suffolk = api.get("/api/v1/circles/suffolk/").json()
    southwark = api.get("/api/v1/circles/southwark/").json()

    assert {c["slug"]: c["vetting_level"] for c in suffolk["categories"]}["diy"] == "enhanced"
    assert {c["slug"]: c["vetting_level"] for c in southwark["categories"]}["diy"] == "basic"


def test_circle_detail_unknown_slug_is_404(personas: Personas, api: APIClient) -> None:
    assert_error(api.get("/api/v1/circles/atlantis/"), 404, "circle_not_found")


# --- createcircle -------------------------------------------------------------------------


@pytest.fixture
def nothing_written(db: None) -> Iterator[None]:
    """Asserts the test left the circle, category, login and member tables as it found them."""
    models = [Circle, Category, User, Member, Role, AuditEvent]
    before = [model.objects.count() for model in models]
    yield
    assert [model.objects.count() for model in models] == before


@pytest.mark.django_db
def test_createcircle_creates_a_circle_with_default_categories(api: APIClient) -> None:
    call_command(
        "createcircle",
        "hammersmith",
        "--name",
        "Hammersmith & Fulham Circle",
        "--postcode",
        "w66ab",
        "--radius-km",
        "6.5",
        "--fee",
        "12.50",
    )

    circle = Circle.objects.get(slug="hammersmith")
    assert circle.centre_postcode == "W6 6AB"
    body = api.get("/api/v1/circles/hammersmith/").json()
    assert body["name"] == "Hammersmith & Fulham Circle"
    assert body["radius_km"] == "6.5"
    assert body["membership_fee"] == {"amount": "12.50", "currency": "GBP"}
    assert body["token_price"] == GBP_10
    assert {c["slug"]: c["vetting_level"] for c in body["categories"]} == DEFAULT_VETTING


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--postcode", "NOT A CODE", "--radius-km", "5"], "postcode_invalid"),
        (["--postcode", "ZZ9 9ZZ", "--radius-km", "5"], "postcode_unknown"),
        (["--postcode", "SE1 7PB", "--radius-km=-3"], "radius"),
        (["--postcode", "SE1 7PB", "--radius-km", "0"], "radius"),
        (["--postcode", "SE1 7PB", "--radius-km", "5", "--fee=-1"], "fee"),
        (["--postcode", "SE1 7PB", "--radius-km", "5", "--token-price=-10"], "price"),
        (["--postcode", "SE1 7PB", "--radius-km", "5", "--min-age", "12"], "age"),
        (["--postcode", "SE1 7PB", "--radius-km", "5", "--token-minutes", "0"], "minutes"),
    ],
)
def test_createcircle_refuses_bad_input_and_writes_nothing(
    nothing_written: None, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("createcircle", "lambeth", "--name", "Lambeth Circle", *args)


@pytest.mark.parametrize("slug", ["Not A Slug", "lambeth/north", ""])
def test_createcircle_refuses_a_bad_slug(nothing_written: None, slug: str) -> None:
    with pytest.raises(CommandError, match="slug"):
        call_command(
            "createcircle", slug, "--name", "Lambeth", "--postcode", "SE1 7PB", "--radius-km", "5"
        )


def test_createcircle_refuses_a_blank_name(nothing_written: None) -> None:
    with pytest.raises(CommandError, match="name"):
        call_command(
            "createcircle", "lambeth", "--name", "  ", "--postcode", "SE1 7PB", "--radius-km", "5"
        )


def test_createcircle_refuses_a_duplicate_slug(personas: Personas, nothing_written: None) -> None:
    with pytest.raises(CommandError, match="circle_exists"):
        call_command(
            "createcircle",
            "southwark",
            "--name",
            "Another Southwark",
            "--postcode",
            "SE1 7PB",
            "--radius-km",
            "5",
        )

    assert Circle.objects.get(slug="southwark").name == "Southwark Circle"


# --- createstaff --------------------------------------------------------------------------


def sign_in(email: str, password: str = PASSWORD):
    return APIClient().post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json"
    )


def test_createstaff_makes_a_new_operator_with_password_option(personas: Personas) -> None:
    call_command(
        "createstaff",
        "Nora@Example.org",
        "--circle",
        "southwark",
        "--role",
        "operator",
        "--password",
        PASSWORD,
        "--name",
        "Nora North",
    )

    member = Member.objects.get(circle=personas.southwark, user__email="nora@example.org")
    assert member.full_name == "Nora North"
    assert list(member.roles.values_list("role", flat=True)) == ["operator"]
    assert sign_in("nora@example.org").status_code == 200


def test_createstaff_takes_the_password_from_the_environment(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCLE_STAFF_PASSWORD", "An0ther-g00d-passphrase")

    call_command("createstaff", "nora@example.org", "--circle", "suffolk", "--role", "coordinator")

    member = Member.objects.get(circle=personas.suffolk, user__email="nora@example.org")
    assert list(member.roles.values_list("role", flat=True)) == ["coordinator"]
    assert sign_in("nora@example.org", "An0ther-g00d-passphrase").status_code == 200


def test_createstaff_refuses_a_new_login_without_password(
    personas: Personas, nothing_written: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIRCLE_STAFF_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="password"):
        call_command(
            "createstaff", "nora@example.org", "--circle", "southwark", "--role", "operator"
        )


def test_createstaff_refuses_a_weak_password(personas: Personas, nothing_written: None) -> None:
    with pytest.raises(CommandError, match="password_too_weak"):
        call_command(
            "createstaff",
            "nora@example.org",
            "--circle",
            "southwark",
            "--role",
            "operator",
            "--password",
            "12345",
        )


def test_createstaff_gives_an_existing_person_a_second_role(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A password left in the environment for new logins must not reset Alice's.
    monkeypatch.setenv("CIRCLE_STAFF_PASSWORD", "An0ther-g00d-passphrase")
    members_before = Member.objects.count()

    call_command("createstaff", "ALICE@example.org", "--circle", "southwark", "--role", "operator")

    assert Member.objects.count() == members_before
    roles = set(personas.alice.roles.values_list("role", flat=True))
    assert roles == {"member", "operator"}
    assert sign_in("alice@example.org").status_code == 200


def test_createstaff_twice_grants_the_role_once(personas: Personas) -> None:
    for _ in range(2):
        call_command(
            "createstaff", "otto@example.org", "--circle", "southwark", "--role", "operator"
        )

    assert list(personas.otto.roles.values_list("role", flat=True)) == ["operator"]


def test_createstaff_unknown_circle_errors(personas: Personas, nothing_written: None) -> None:
    with pytest.raises(CommandError, match="circle_not_found"):
        call_command(
            "createstaff",
            "nora@example.org",
            "--circle",
            "atlantis",
            "--role",
            "operator",
            "--password",
            PASSWORD,
        )


@pytest.mark.parametrize("role", ["member", "helper", "admin"])
def test_createstaff_invalid_role_errors(
    personas: Personas, nothing_written: None, role: str
) -> None:
    with pytest.raises(CommandError, match="role"):
        call_command(
            "createstaff",
            "nora@example.org",
            "--circle",
            "southwark",
            "--role",
            role,
            "--password",
            PASSWORD,
        )


def test_new_coordinator_can_read_the_audit_log(personas: Personas) -> None:
    call_command(
        "createstaff",
        "nora@example.org",
        "--circle",
        "southwark",
        "--role",
        "coordinator",
        "--password",
        PASSWORD,
    )
    key = sign_in("nora@example.org").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.get("/api/v1/circles/southwark/audit/")

    assert response.status_code == 200
    nora = Member.objects.get(circle=personas.southwark, user__email="nora@example.org")
    granted = [row for row in response.json()["results"] if row["action"] == "staff.role_granted"]
    assert [(row["member_id"], row["details"]) for row in granted] == [
        (nora.pk, {"role": "coordinator"})
    ]
    assert Token.objects.filter(key=key).exists()
