"""Helpers shared by the payment tests: the endpoints, a valid body and row counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from members.models import AuditEvent
from payments.models import MembershipPeriod, Payment
from tests.factories import body_with
from tokens.models import Entry, LedgerTransaction

OFFLINE_URL = "/api/v1/members/{id}/payments/offline/"
LIST_URL = "/api/v1/members/{id}/payments/"


def offline_url(member_id: int) -> str:
    return OFFLINE_URL.format(id=member_id)


def list_url(member_id: int) -> str:
    return LIST_URL.format(id=member_id)


@pytest.fixture
def payment_body() -> Callable[..., dict[str, Any]]:
    """A valid cash payment for a year's membership; keyword arguments replace fields, or
    (with None) drop them."""

    def make(**changes: Any) -> dict[str, Any]:
        body = {"purpose": "membership", "method": "cash", "reference": "R1"}
        return body_with(body, **changes)

    return make


def row_counts() -> dict[str, int]:
    """Everything a payment may write, so a refused one can be shown to write nothing."""
    return {
        "payments": Payment.objects.count(),
        "periods": MembershipPeriod.objects.count(),
        "audit": AuditEvent.objects.count(),
        "transactions": LedgerTransaction.objects.count(),
        "entries": Entry.objects.count(),
    }
