"""Signing in: API tokens, their revocation, login limits (django-axes) and session login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.checks import assert_error
from tests.conftest import Personas
from tests.factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"
SESSION_LOGIN_URL = "/api/v1/auth/session/login/"


def sign_in(client: APIClient, email: str, password: str, **extra: str):
    return client.post(TOKEN_URL, {"email": email, "password": password}, format="json", **extra)


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- Tokens ---------------------------------------------------------------------------------


def test_token_issued_for_right_email_and_password(personas: Personas, api: APIClient) -> None:
    response = sign_in(api, "alice@example.org", PASSWORD)

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=personas.alice.user).key}


def test_token_email_is_case_insensitive(personas: Personas, api: APIClient) -> None:
    response = sign_in(api, "  ALICE@Example.ORG ", PASSWORD)

    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=personas.alice.user).key


def test_token_is_the_same_on_a_second_sign_in(personas: Personas, api: APIClient) -> None:
    first = sign_in(api, "alice@example.org", PASSWORD).json()["token"]
    second = sign_in(api, "alice@example.org", PASSWORD).json()["token"]

    assert first == second
    assert Token.objects.filter(user=personas.alice.user).count() == 1


def test_token_refused_for_wrong_password(personas: Personas, api: APIClient) -> None:
    response = sign_in(api, "alice@example.org", "not-her-password")

    assert_error(response, 400, "invalid_credentials")
    assert not Token.objects.exists()


def test_token_refused_for_unknown_email_in_the_same_words(
    personas: Personas, api: APIClient
) -> None:
    unknown = sign_in(api, "nobody@example.org", PASSWORD)
    wrong = sign_in(api, "bob@example.org", "not-his-password")

    assert_error(unknown, 400, "invalid_credentials")
    # The same answer either way, so nobody can learn who has a login.
    assert unknown.json() == wrong.json()
    assert not Token.objects.exists()


def test_token_refused_for_inactive_user(personas: Personas, api: APIClient) -> None:
    user = personas.alice.user
    assert user is not None
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert_error(sign_in(api, "alice@example.org", PASSWORD), 400, "invalid_credentials")
    assert not Token.objects.exists()


@pytest.mark.parametrize("missing", ["email", "password"])
def test_token_request_names_the_missing_field(
    personas: Personas, api: APIClient, missing: str
) -> None:
    body = {"email": "alice@example.org", "password": PASSWORD}
    del body[missing]

    response = api.post(TOKEN_URL, body, format="json")

    assert_error(response, 400, "required", field=missing)
    assert missing in response.json()["detail"]
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_token_request_with_malformed_json_is_refused(api: APIClient) -> None:
    response = api.post(TOKEN_URL, data='{"email": "alice@', content_type="application/json")

    assert_error(response, 400, "malformed_json")


def test_token_signs_in_to_me(personas: Personas, api: APIClient) -> None:
    key = sign_in(api, "alice@example.org", PASSWORD).json()["token"]

    response = token_client(key).get(ME_URL)

    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.org"


@pytest.mark.parametrize("header", ["Token not-a-real-key", "Token ", "Bearer abc"])
def test_bad_token_is_401(personas: Personas, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(ME_URL)

    assert response.status_code == 401
    assert response.json()["code"] in {"authentication_failed", "not_authenticated"}
    assert response["WWW-Authenticate"].startswith("Token")


def test_delete_revokes_the_token(personas: Personas, api: APIClient) -> None:
    key = sign_in(api, "alice@example.org", PASSWORD).json()["token"]
    client = token_client(key)

    response = client.delete(TOKEN_URL)

    assert response.status_code == 204
    assert not Token.objects.filter(key=key).exists()
    assert_error(client.get(ME_URL), 401, "authentication_failed")


def test_delete_leaves_other_peoples_tokens(personas: Personas, api: APIClient) -> None:
    alice_key = sign_in(api, "alice@example.org", PASSWORD).json()["token"]
    bob_key = sign_in(api, "bob@example.org", PASSWORD).json()["token"]

    assert token_client(alice_key).delete(TOKEN_URL).status_code == 204

    assert token_client(bob_key).get(ME_URL).status_code == 200


def test_delete_when_anonymous_is_401(personas: Personas, api: APIClient) -> None:
    sign_in(api, "alice@example.org", PASSWORD)

    assert_error(api.delete(TOKEN_URL), 401, "not_authenticated")
    assert Token.objects.count() == 1


# --- Login limits (django-axes) -------------------------------------------------------------


def fail_until_locked(api: APIClient, email: str) -> None:
    """Fail AXES_FAILURE_LIMIT times; the last failure is the one that locks."""
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert_error(sign_in(api, email, "wrong-password"), 400, "invalid_credentials")
    assert_error(sign_in(api, email, "wrong-password"), 429, "too_many_attempts")


def test_login_limit_is_five_failures() -> None:
    # DESIGN's promise to members: a few typos are fine, a guessing script is stopped.
    assert settings.AXES_FAILURE_LIMIT == 5


def test_right_password_refused_after_too_many_failures(personas: Personas, api: APIClient) -> None:
    fail_until_locked(api, "alice@example.org")

    response = sign_in(api, "alice@example.org", PASSWORD)

    assert_error(response, 429, "too_many_attempts")
    assert not Token.objects.exists()


def test_lockout_counts_the_email_whatever_its_case(personas: Personas, api: APIClient) -> None:
    fail_until_locked(api, "Alice@Example.org")

    assert_error(sign_in(api, "alice@example.org", PASSWORD), 429, "too_many_attempts")


def test_lockout_leaves_other_emails_from_the_same_address(
    personas: Personas, api: APIClient
) -> None:
    fail_until_locked(api, "alice@example.org")

    response = sign_in(api, "bob@example.org", PASSWORD)

    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=personas.bob.user).key


def test_lockout_leaves_the_same_email_from_another_address(
    personas: Personas, api: APIClient
) -> None:
    fail_until_locked(api, "alice@example.org")

    response = sign_in(api, "alice@example.org", PASSWORD, REMOTE_ADDR="192.0.2.44")

    assert response.status_code == 200


def test_lockout_ignores_a_forged_forwarded_for_header(personas: Personas, api: APIClient) -> None:
    fail_until_locked(api, "alice@example.org")

    # Without a trusted proxy in front, X-Forwarded-For is the client's own words.
    response = sign_in(api, "alice@example.org", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.45")

    assert_error(response, 429, "too_many_attempts")


def backdate_attempts(by: timedelta) -> None:
    """Move the recorded failures into the past, as the clock passing would."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


def test_lockout_holds_until_the_cool_off_ends(personas: Personas, api: APIClient) -> None:
    fail_until_locked(api, "alice@example.org")
    backdate_attempts(timedelta(minutes=14))

    assert_error(sign_in(api, "alice@example.org", PASSWORD), 429, "too_many_attempts")


def test_login_works_again_after_the_cool_off(personas: Personas, api: APIClient) -> None:
    fail_until_locked(api, "alice@example.org")
    backdate_attempts(timedelta(minutes=15, seconds=1))

    response = sign_in(api, "alice@example.org", PASSWORD)

    assert response.status_code == 200
    assert "token" in response.json()


def test_login_works_again_after_an_axes_reset(personas: Personas, api: APIClient) -> None:
    from axes.utils import reset

    fail_until_locked(api, "alice@example.org")
    reset(username="alice@example.org")

    assert sign_in(api, "alice@example.org", PASSWORD).status_code == 200


def test_success_before_the_limit_resets_the_count(personas: Personas, api: APIClient) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert_error(sign_in(api, "alice@example.org", "wrong"), 400, "invalid_credentials")
    assert sign_in(api, "alice@example.org", PASSWORD).status_code == 200
    for _ in range(limit - 1):
        assert_error(sign_in(api, "alice@example.org", "wrong"), 400, "invalid_credentials")

    # 2 * (limit - 1) failures in all, but never limit in a row.
    assert sign_in(api, "alice@example.org", PASSWORD).status_code == 200


# --- Session login, for the browsable API and the docs --------------------------------------


def session_client(email: str) -> Client:
    """A browser: fetches the login form for its CSRF cookie, then posts the form."""
    client = Client(enforce_csrf_checks=True)
    form = client.get(SESSION_LOGIN_URL)
    assert form.status_code == 200
    response = client.post(
        SESSION_LOGIN_URL,
        {
            "username": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content
    return client


def test_session_login_reads_me(personas: Personas) -> None:
    client = session_client("alice@example.org")

    response = client.get(ME_URL, HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.org"


def test_session_login_refuses_a_wrong_password(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(SESSION_LOGIN_URL)

    response = client.post(
        SESSION_LOGIN_URL,
        {
            "username": "alice@example.org",
            "password": "wrong",
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )

    assert response.status_code == 200  # the form again, with its error
    assert client.get(ME_URL, HTTP_ACCEPT="application/json").status_code in {401, 403}


def test_session_write_without_csrf_token_is_refused(personas: Personas) -> None:
    client = session_client("alice@example.org")
    user = personas.alice.user
    assert user is not None
    Token.objects.create(user=user)

    response = client.delete(TOKEN_URL, HTTP_ACCEPT="application/json")

    assert_error(response, 403, "csrf_failed")
    assert "CSRF" in response.json()["detail"]
    assert Token.objects.filter(user=user).exists()


def test_session_write_with_csrf_token_is_accepted(personas: Personas) -> None:
    client = session_client("alice@example.org")
    user = personas.alice.user
    assert user is not None
    Token.objects.create(user=user)

    response = client.delete(
        TOKEN_URL,
        HTTP_ACCEPT="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert response.status_code == 204
    assert not Token.objects.filter(user=user).exists()


def test_session_login_is_limited_too(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(SESSION_LOGIN_URL)

    def post(password: str):
        return client.post(
            SESSION_LOGIN_URL,
            {
                "username": "alice@example.org",
                "password": password,
                "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
            },
        )

    for _ in range(settings.AXES_FAILURE_LIMIT):
        post("wrong")
    response = post(PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get(ME_URL, HTTP_ACCEPT="application/json").status_code in {401, 403}
