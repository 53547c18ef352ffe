"""Members by status month by month, replayed from joins and audited status changes, checked
against a small history worked out by hand."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.utils import timezone

from circle.periods import report_period
from members.models import Member, RoleName
from members.selectors import members_by_status_monthly
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.matching.conftest import make_active

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int = 10) -> datetime:
    return timezone.make_aware(datetime(year, month, day, 12))  # noqa: DTZ001


NOW = at(2026, 6, 20)


def test_statuses_are_replayed_month_by_month(personas: Personas) -> None:
    # The report is read as of NOW, June 2026; the personas joined later (today), so they
    # are not counted yet.
    with time_machine.travel(at(2025, 1), tick=False):
        early = MemberFactory(circle=personas.southwark, roles=[RoleName.MEMBER])
        make_active(early, by=personas.otto)  # active from January 2025 to January 2026
    with time_machine.travel(at(2026, 2), tick=False):
        newer = MemberFactory(circle=personas.southwark, roles=[RoleName.MEMBER])
    with time_machine.travel(at(2026, 3), tick=False):
        make_active(newer, by=personas.otto)
    for day in (at(2026, 1, 20), at(2026, 3, 1)):
        # The periodic job: grace within 30 days of the year's end, lapsed after.
        with time_machine.travel(day, tick=False):
            _advance()
    MemberFactory(circle=personas.southwark, roles=[RoleName.HELPER])  # not a member: not counted

    with time_machine.travel(NOW, tick=False):
        months = members_by_status_monthly(
            circle=personas.southwark, period=report_period(months=6)
        )

    table = {m.month.strftime("%Y-%m"): (m.pending, m.active, m.grace, m.lapsed) for m in months}
    assert list(table) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert table["2026-01"] == (0, 0, 1, 0)  # the year ended on 9 January: grace
    assert table["2026-02"] == (1, 0, 1, 0)  # newer joined, pending
    assert table["2026-03"] == (0, 1, 0, 1)  # newer paid; early lapsed on 1 March
    assert table["2026-05"] == (0, 1, 0, 1)
    assert table["2026-06"] == (0, 1, 0, 1)


def test_the_last_month_matches_the_members_as_they_are(personas: Personas) -> None:
    make_active(personas.alice, by=personas.otto)

    months = members_by_status_monthly(circle=personas.southwark, period=report_period(months=3))

    now = months[-1]
    members = Member.objects.filter(circle=personas.southwark, roles__role=RoleName.MEMBER)
    assert (now.pending, now.active) == (
        members.filter(membership_status="pending").count(),
        members.filter(membership_status="active").count(),
    )
    assert (now.pending, now.active) == (1, 1)


def _advance() -> None:
    from payments.services import membership_statuses_advance

    membership_statuses_advance()
