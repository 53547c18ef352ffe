"""Helpers shared by the members endpoint tests: a valid join body and row counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from members.models import AuditEvent, Member, Role, User
from tests.factories import body_with, years_ago

JOIN_URL = "/api/v1/circles/{slug}/members/"
# Strong enough for Django's validators, and unlike any persona's name or email.
NEW_PASSWORD = "Marigold-Teapot-1947"


def join_url(slug: str = "southwark") -> str:
    return JOIN_URL.format(slug=slug)


@pytest.fixture
def join_body() -> Callable[..., dict[str, Any]]:
    """A valid online join for Southwark; keyword arguments replace or (with None) drop fields."""

    def make(**changes: Any) -> dict[str, Any]:
        body = {
            "full_name": "Dora Dawson",
            "email": "dora@example.org",
            "password": NEW_PASSWORD,
            "phone": "07911 123456",
            "date_of_birth": years_ago(72).isoformat(),
            "address_line1": "12 Tabard Street",
            "postcode": "se17pb",
        }
        return body_with(body, **changes)

    return make


def row_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "members": Member.objects.count(),
        "roles": Role.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def counts() -> Callable[[], dict[str, int]]:
    """Call before and after a request to show that nothing (or what) was written."""
    return row_counts
