"""Liveness and readiness probes for the load balancer and the orchestrator."""

from __future__ import annotations

import os

import pytest
from django.test import Client, override_settings

REDIS_URL = os.environ.get("CIRCLE_TEST_REDIS_URL", "")


@pytest.fixture
def redis_url() -> str:
    """The real Redis that CI provides. On a laptop without one the test is skipped; in CI a
    missing Redis is a failure, not a skip that nobody reads."""
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI is set but CIRCLE_TEST_REDIS_URL is not: the broker check is untested")
        pytest.skip("set CIRCLE_TEST_REDIS_URL to a Redis server to test the broker check")
    return REDIS_URL


def test_healthz_is_200_without_touching_the_database() -> None:
    # No django_db mark: a database query here would fail the test.
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="")
def test_readyz_ready_with_database_and_no_broker() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("not configured")


@pytest.mark.django_db
def test_readyz_checks_a_real_broker(redis_url: str) -> None:
    with override_settings(CELERY_BROKER_URL=redis_url):
        response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_readyz_503_when_the_broker_is_down() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")
    # The error names its kind, never the broker's address or password.
    assert "127.0.0.1" not in body["checks"]["broker"]


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://:s3cret@127.0.0.1:1/0")
def test_readyz_never_shows_the_broker_password() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 503
    assert "s3cret" not in response.content.decode()


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_readyz_is_public_and_json_for_a_plain_client() -> None:
    response = Client(HTTP_ACCEPT="text/html").get("/readyz")

    assert response["Content-Type"] == "application/json"
