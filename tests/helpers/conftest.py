"""Shared pieces for the helper endpoint tests: URLs, a valid sign-up body, and row counts that
show a refused request wrote nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.response import Response

from helpers.models import AvailabilitySlot, Helper, HelperSkill, VettingCheck
from members.models import AuditEvent, Member, Role, User

WRITTEN_MODELS = (
    User,
    Member,
    Role,
    Helper,
    HelperSkill,
    AvailabilitySlot,
    VettingCheck,
    AuditEvent,
)


def signup_url(slug: str = "southwark") -> str:
    return f"/api/v1/circles/{slug}/helpers/"


def detail_url(helper_id: int) -> str:
    return f"/api/v1/helpers/{helper_id}/"


def vetting_url(helper_id: int) -> str:
    return f"/api/v1/helpers/{helper_id}/vetting/"


def row_counts() -> dict[str, int]:
    """How many rows each table a helper endpoint writes to holds now."""
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def assert_error(response: Response, status: int, code: str, field: str | None = None) -> None:
    """The DESIGN error body: {code, detail, field?}, with a sentence for a person to read."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if field is not None:
        assert body.get("field") == field, body


@pytest.fixture
def new_helper_body() -> Callable[..., dict[str, Any]]:
    """A complete anonymous sign-up for Southwark; keyword arguments replace fields."""

    def make(**changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "full_name": "Harriet Helper",
            "email": "harriet@example.org",
            "password": "Gardens-and-Gates-2024",
            "phone": "07912 345678",
            "postcode": "se1 7pb",
            "kind": "volunteer",
            "skills": ["gardening", "it-help"],
            "travel_radius_km": "3.5",
            "availability": [
                {"weekday": 0, "start": "09:00", "end": "12:00"},
                {"weekday": 3, "start": "14:00", "end": "17:30"},
            ],
        }
        body.update(changes)
        return body

    return make
