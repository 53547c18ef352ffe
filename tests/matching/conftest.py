"""Shared pieces of the tasks tests: members made active and given tokens the way real ones are
(an offline membership payment, a token purchase), vetted helpers, request bodies, the ledger
as the API shows it, and row counts that prove a refusal wrote nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from circle import sms
from helpers.models import AvailabilitySlot, Helper, HelperKind
from helpers.services import helper_vetting_record
from matching.models import Feedback, HelperPreference, Notice, Task, TaskSeries
from matching.rules import local_zone
from members.models import AuditEvent, Member, RoleName
from members.selectors import caller_for
from payments.services import offline_payment_record
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory, UserFactory, body_with
from tokens.models import Entry, Hold, LedgerTransaction
from tokens.services import purchase_credit

TASKS_URL = "/api/v1/tasks/"
FEED_URL = "/api/v1/helpers/me/tasks/"
SERIES_URL = "/api/v1/task-series/"


def task_url(task_id: int, action: str = "") -> str:
    return f"/api/v1/tasks/{task_id}/" + (f"{action}/" if action else "")


def tokens_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/tokens/"


@pytest.fixture(autouse=True)
def sms_outbox(settings: Any) -> Iterator[list[sms.Sms]]:
    """Text messages go to circle.sms.outbox, as email goes to django.core.mail.outbox."""
    settings.SMS_BACKEND = "circle.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def london(day: datetime | None = None, hour: int = 10, minute: int = 0) -> datetime:
    """A wall-clock time in London: `hour` o'clock on `day` (default tomorrow)."""
    base = day or (timezone.now().astimezone(local_zone()) + timedelta(days=1))
    return datetime.combine(base.date(), time(hour, minute), tzinfo=local_zone())


def make_active(member: Member, *, by: Member, tokens: int = 0, reference: str = "") -> None:
    """A year's membership paid in cash to staff, then tokens bought (minutes of the circle)."""
    caller = caller_for(user=by.user, circle=member.circle)
    offline_payment_record(
        member=member,
        caller=caller,
        purpose="membership",
        method="cash",
        reference=reference or f"M-{member.pk}",
    )
    if tokens:
        give_tokens(member, minutes=tokens * member.circle.token_minutes)


def give_tokens(member: Member, *, minutes: int, key: str = "") -> None:
    purchase_credit(
        member=member,
        minutes=minutes,
        payment_key=key or f"test-{member.pk}-{LedgerTransaction.objects.count()}",
        actor=None,
    )


def vet(helper: Helper, *, by: Member, level: str = "basic") -> Helper:
    return helper_vetting_record(
        helper=helper,
        caller=caller_for(user=by.user, circle=helper.circle),
        identity_checked=True,
        references_checked=True,
        dbs_level=level,
        dbs_certificate_number="001234567890" if level != "none" else "",
        dbs_issue_date=date(2024, 1, 15) if level != "none" else None,
        original_seen_by="Cora",
    )


def new_helper(
    personas: Personas,
    name: str,
    *,
    kind: str = HelperKind.VOLUNTEER,
    skills: list[str] | None = None,
    latitude: Decimal = Decimal("51.50218"),
    longitude: Decimal = Decimal("-0.07630"),
    level: str = "basic",
    phone: str | None = None,
) -> Helper:
    """Another vetted helper in Southwark (by default next door to Alice)."""
    user = UserFactory(email=f"{name.lower()}@example.org", full_name=f"{name} Helper")
    extra: dict[str, Any] = {"phone": phone} if phone else {}
    member = MemberFactory(
        circle=personas.southwark,
        user=user,
        roles=[RoleName.HELPER],
        latitude=latitude,
        longitude=longitude,
        **extra,
    )
    helper = HelperFactory(member=member, kind=kind, skills=skills)
    return vet(helper, by=personas.cora, level=level)


@pytest.fixture
def world(personas: Personas) -> Personas:
    """The personas, with Alice active and holding 5 tokens, Bob active with 2, and Hana
    vetted (basic) for gardening and odd jobs, two doors from Alice."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    make_active(personas.bob, by=personas.otto, tokens=2)
    vet(personas.hana_helper, by=personas.cora)
    for who in (personas.alice, personas.bob):
        who.refresh_from_db()
    personas.hana_helper.refresh_from_db()
    return personas


@pytest.fixture
def task_body() -> Callable[..., dict[str, Any]]:
    """Gardening tomorrow 10:00-12:00 London, estimated 90 minutes; keyword arguments replace
    fields or (None) drop them."""

    def make(**changes: Any) -> dict[str, Any]:
        body = {
            "category": "gardening",
            "title": "Trim the hedge",
            "details": "The front hedge, about 5 m.",
            "window_start": london(hour=10).isoformat(),
            "window_end": london(hour=12).isoformat(),
            "estimated_minutes": 90,
        }
        return body_with(body, **changes)

    return make


def book(client: APIClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(TASKS_URL, body, format="json")
    assert response.status_code == 201, response.json()
    result: dict[str, Any] = response.json()
    return result


def tokens_of(client: APIClient, member: Member) -> dict[str, int]:
    """balance, held and available in minutes, as the member's tokens endpoint shows them."""
    body = client.get(tokens_url(member.pk)).json()
    return {name: body[name]["minutes"] for name in ("balance", "held", "available")}


def row_counts() -> dict[str, int]:
    """Everything booking and the lifecycle may write."""
    return {
        "tasks": Task.objects.count(),
        "series": TaskSeries.objects.count(),
        "holds": Hold.objects.count(),
        "transactions": LedgerTransaction.objects.count(),
        "entries": Entry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notices": Notice.objects.count(),
        "feedback": Feedback.objects.count(),
        "preferences": HelperPreference.objects.count(),
    }


def set_availability(helper: Helper, *slots: tuple[int, time, time]) -> None:
    AvailabilitySlot.objects.filter(helper=helper).delete()
    for weekday, start, end in slots:
        AvailabilitySlot.objects.create(
            circle=helper.circle, helper=helper, weekday=weekday, start=start, end=end
        )
