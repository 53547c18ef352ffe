"""Every input is answered cleanly: a body nested too deep, a body over the size limit, a
session POST without its CSRF token and numbers past what a database holds are each a 4xx in the
API's error format, never a 500 or an HTML page, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from circle.parsers import MAX_JSON_DEPTH
from members.models import Member, User
from tests.api.checks import assert_error
from tests.conftest import Personas
from tests.factories import PASSWORD
from tokens.selectors import member_tokens
from tokens.services import purchase_credit

JOIN_URL = "/api/v1/circles/southwark/members/"
TRANSFERS_URL = "/api/v1/transfers/"

ClientFor = Callable[[Member | User | None], APIClient]


def nested(depth: int) -> str:
    """An object `depth` levels deep: {"a": {"a": ... {} ...}}."""
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


# --- How deep a body may be -----------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_a_body_nested_too_deep_is_a_400(personas: Personas, api: APIClient, depth: int) -> None:
    members_before = Member.objects.count()

    response = api.post(JOIN_URL, data=nested(depth), content_type="application/json")

    assert_error(response, 400, "json_too_deep")
    assert Member.objects.count() == members_before


def test_a_list_nested_too_deep_is_a_400(personas: Personas, api: APIClient) -> None:
    body = "[" * 1000 + "]" * 1000

    response = api.post(JOIN_URL, data=body, content_type="application/json")

    assert_error(response, 400, "json_too_deep")


def test_a_body_as_deep_as_allowed_is_read(personas: Personas, api: APIClient) -> None:
    # Read, and then refused for what it says (no fields), not for its shape.
    response = api.post(JOIN_URL, data=nested(MAX_JSON_DEPTH), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] not in {"json_too_deep", "malformed_json"}


def test_brackets_inside_strings_do_not_count_as_depth(personas: Personas, api: APIClient) -> None:
    body = '{"full_name": "' + "[{" * 500 + '"}'

    response = api.post(JOIN_URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] != "json_too_deep"


# --- Bodies over the size limit ---------------------------------------------------------------


def test_a_body_over_the_size_limit_is_a_json_413(
    personas: Personas, client_for: ClientFor, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    purchase_credit(member=personas.alice, minutes=60, payment_key="p", actor=None)
    body = '{"to": "pot", "minutes": 30, "idempotency_key": "k", "memo": "' + "x" * 2000 + '"}'

    response = client_for(personas.alice).post(
        TRANSFERS_URL, data=body, content_type="application/json"
    )

    assert_error(response, 413, "body_too_large")
    assert member_tokens(member=personas.alice).available == 60


def test_a_webhook_body_over_the_size_limit_is_a_json_413(db: None, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"

    response = APIClient().post(
        "/api/v1/payments/stripe/webhook/",
        data='{"a": "' + "x" * 2000 + '"}',
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )

    assert_error(response, 413, "body_too_large")


def test_a_page_body_over_the_size_limit_stays_a_page(db: None, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = Client().post("/sign-in/", {"username": "a@example.org", "password": "x" * 2000})

    assert response.status_code in {400, 413}
    assert response["Content-Type"].startswith("text/html")


# --- CSRF ---------------------------------------------------------------------------------------


def test_a_session_post_without_its_csrf_token_is_a_json_403(personas: Personas) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas.alice.user)
    purchase_credit(member=personas.alice, minutes=60, payment_key="p", actor=None)

    response = browser.post(
        TRANSFERS_URL,
        data={"to": "pot", "minutes": 30, "idempotency_key": "k"},
        content_type="application/json",
    )

    assert_error(response, 403, "csrf_failed")


def test_a_session_sign_in_for_the_browsable_api_without_csrf_is_a_json_403(
    personas: Personas,
) -> None:
    # /api/v1/auth/session/login/ is Django's own view, guarded by the CSRF middleware.
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/auth/session/login/",
        {"username": personas.alice.email, "password": PASSWORD},
    )

    assert_error(response, 403, "csrf_failed")


def test_a_page_post_without_its_csrf_token_keeps_the_page(personas: Personas) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/sign-in/", {"username": personas.alice.email, "password": PASSWORD}
    )

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


# --- Numbers past what a database holds ---------------------------------------------------------


@pytest.mark.parametrize(
    "offset", ["9223372036854775808", "9223372036854775807", "99999999999999999999999"]
)
def test_a_statement_offset_past_any_row_is_an_empty_page(
    personas: Personas, client_for: ClientFor, offset: str
) -> None:
    purchase_credit(member=personas.alice, minutes=60, payment_key="p", actor=None)

    response = client_for(personas.alice).get(
        f"/api/v1/members/{personas.alice.pk}/statement/", {"offset": offset}
    )

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    assert response.json()["count"] == 1


@pytest.mark.parametrize("offset", ["9223372036854775808", "99999999999999999999999"])
def test_a_list_offset_past_any_row_is_an_empty_page(
    personas: Personas, client_for: ClientFor, offset: str
) -> None:
    response = client_for(personas.cora).get(
        "/api/v1/circles/southwark/ledger/transactions/", {"offset": offset}
    )

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
