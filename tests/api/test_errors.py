"""Every API error is {code, detail, field?}, whatever raised it: DRF, Django or our code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from members.models import Member
from tests.api.checks import assert_error
from tests.conftest import Personas
from tests.factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"
JOIN_URL = "/api/v1/circles/southwark/members/"

ClientFor = Callable[[Member | None], APIClient]


@pytest.mark.parametrize("body", ['{"email": ', "{'email': 'a'}", "nonsense", "{}}"])
def test_malformed_json_is_400(personas: Personas, api: APIClient, body: str) -> None:
    members_before = Member.objects.count()

    response = api.post(JOIN_URL, data=body, content_type="application/json")

    assert_error(response, 400, "malformed_json")
    assert Member.objects.count() == members_before


@pytest.mark.parametrize("body", ["[]", '["alice@example.org"]', '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_400(personas: Personas, api: APIClient, body: str) -> None:
    members_before = Member.objects.count()

    response = api.post(JOIN_URL, data=body, content_type="application/json")

    assert_error(response, 400, "invalid_body")
    assert Member.objects.count() == members_before


def test_json_list_body_names_what_was_expected(personas: Personas, api: APIClient) -> None:
    response = api.post(TOKEN_URL, data="[1, 2]", content_type="application/json")

    assert_error(response, 400, "invalid_body")
    assert "JSON object" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("email=alice%40example.org&password=x", "application/x-www-form-urlencoded"),
        ("email alice", "text/plain"),
        ("<email>alice</email>", "application/xml"),
    ],
)
def test_wrong_content_type_is_415(api: APIClient, data: str, content_type: str) -> None:
    response = api.post(TOKEN_URL, data=data, content_type=content_type)

    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_multipart_body_is_415(api: APIClient) -> None:
    response = api.post(TOKEN_URL, {"email": "alice@example.org", "password": "x"})

    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/circles/"),
        ("delete", "/api/v1/circles/southwark/"),
        ("get", TOKEN_URL),
        ("patch", "/api/v1/circles/"),
    ],
)
def test_method_not_allowed_is_405(api: APIClient, method: str, url: str) -> None:
    response = getattr(api, method)(url, {}, format="json")

    assert_error(response, 405, "method_not_allowed")
    assert method.upper() in response.json()["detail"]


def test_method_not_allowed_when_signed_in(personas: Personas, client_for: ClientFor) -> None:
    assert_error(client_for(personas.alice).delete("/api/v1/me/"), 405, "method_not_allowed")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nope/",
        "/api/v1/circles/southwark/nope/",
        "/api/v1/members/not-a-number/",
        "/api/v2/x",
        "/api/",
    ],
)
def test_unknown_api_path_is_json_404(url: str) -> None:
    # A plain Django client: no API machinery on our side of the request.
    response = Client().get(url)

    assert_error(response, 404, "not_found")


@pytest.mark.django_db
def test_unknown_api_path_is_json_404_for_any_method() -> None:
    assert_error(
        Client().post("/api/v2/x", data="{}", content_type="application/json"), 404, "not_found"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v2/x", "/api/v1/circles/not%20a%20slug/members/"])
def test_unknown_api_path_is_json_404_without_a_csrf_token(url: str) -> None:
    # A POST to no endpoint has nothing to protect: a 404, not the pages' CSRF failure page.
    client = Client(enforce_csrf_checks=True)

    response = client.post(url, data="{}", content_type="application/json")

    assert_error(response, 404, "not_found")


def test_unknown_member_is_404_in_the_error_format(
    personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).get("/api/v1/members/999999/")

    assert_error(response, 404, "member_not_found")


def test_unknown_field_is_400_naming_it(personas: Personas, api: APIClient) -> None:
    body = {"email": "alice@example.org", "password": PASSWORD, "remember_me": True}

    response = api.post(TOKEN_URL, body, format="json")

    assert_error(response, 400, "unknown_field", field="remember_me")
    assert "remember_me" in response.json()["detail"]


def test_validation_error_names_the_field(personas: Personas, api: APIClient) -> None:
    response = api.post(TOKEN_URL, {"email": "a" * 300, "password": "x"}, format="json")

    assert_error(response, 400, "max_length", field="email")


@pytest.mark.django_db
def test_anonymous_on_a_signed_in_endpoint_is_401(api: APIClient) -> None:
    assert_error(api.get("/api/v1/me/"), 401, "not_authenticated")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.api.urls_boom")
def test_a_lost_database_is_a_503_in_the_api_format() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/database-gone/")

    assert_error(response, 503, "database_unavailable")
    assert response["Retry-After"] == "30"
    assert "server closed" not in response.content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.api.urls_boom")
def test_a_lost_database_is_a_503_page_on_the_pages() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/database-gone/")

    assert response.status_code == 503
    assert "Circle is not working just now" in response.content.decode()
    assert "server closed" not in response.content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.api.urls_boom")
def test_an_operational_error_that_is_not_a_lost_database_stays_a_500() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/locked/")

    assert_error(response, 500, "server_error")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.api.urls_boom")
def test_server_error_is_json_and_hides_the_cause() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/boom/")

    assert_error(response, 500, "server_error")
    assert "boom" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
