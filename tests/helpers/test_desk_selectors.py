"""The coordinators' reads of helpers: when checks fall due (3 years after the DBS certificate's
issue date, flagged 3 months ahead), the list's order and filters, and the counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from helpers.models import Helper
from helpers.selectors import (
    HelperShow,
    _due_soon_issued_by,
    dbs_due,
    dbs_due_soon,
    helper_desk_counts,
    helper_desk_list,
    helper_get,
    helper_names,
    helper_suspension_history,
)
from helpers.services import helper_suspension_set, helper_vetting_record
from members.models import RoleName
from members.selectors import caller_for
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory


def test_checks_fall_due_three_years_after_the_issue_date() -> None:
    assert dbs_due(date(2024, 6, 10)) == date(2027, 6, 10)
    assert dbs_due(date(2024, 2, 29)) == date(2027, 2, 28)
    assert dbs_due(None) is None


@pytest.mark.parametrize(
    ("issued", "soon"),
    [
        (date(2023, 3, 1), True),  # due 1 March 2026: past
        (date(2023, 12, 1), True),  # due today
        (date(2024, 3, 1), True),  # due in exactly 3 months
        (date(2024, 3, 2), False),  # a day later
        (date(2025, 1, 1), False),
        (None, False),
    ],
)
def test_due_soon_is_within_three_months_or_past(issued: date | None, soon: bool) -> None:
    assert dbs_due_soon(issued, today=date(2026, 12, 1)) is soon


def test_the_lists_sql_edge_agrees_with_due_soon_every_day_of_four_years() -> None:
    # Including leap days on both sides: the list's filter and the flag must never disagree.
    today = date(2025, 1, 1)
    while today < date(2029, 1, 1):
        edge = _due_soon_issued_by(today)
        assert dbs_due_soon(edge, today=today), today
        assert not dbs_due_soon(edge + timedelta(days=1), today=today), today
        today += timedelta(days=1)


def _helper(personas: Personas, name: str, **extra: object) -> Helper:
    member = MemberFactory(circle=personas.southwark, roles=[RoleName.HELPER], full_name=name)
    return HelperFactory(member=member, **extra)


def _vet(personas: Personas, helper: Helper, issued: date) -> Helper:
    return helper_vetting_record(
        helper=helper,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        identity_checked=True,
        references_checked=True,
        dbs_level="basic",
        dbs_certificate_number="001234567890",
        dbs_issue_date=issued,
        original_seen_by="Cora",
    )


@pytest.mark.django_db
def test_the_list_puts_waiting_first_then_the_rest_by_name(personas: Personas) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        old = _helper(personas, "Zed Waiting Longest")
    _vet(personas, _helper(personas, "Bea Vetted"), timezone.localdate())
    _vet(personas, _helper(personas, "Abe Vetted"), timezone.localdate())

    names = [h.member.full_name for h in helper_desk_list(circle=personas.southwark)]

    assert names == [old.member.full_name, "Hana Hughes", "Abe Vetted", "Bea Vetted"]


@pytest.mark.django_db
def test_a_suspended_helper_is_not_waiting(personas: Personas) -> None:
    helper_suspension_set(
        helper=personas.hana_helper,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        suspended=True,
        reason="x",
    )

    assert not helper_desk_list(circle=personas.southwark, show=HelperShow.WAITING).exists()
    counts = helper_desk_counts(circle=personas.southwark)
    assert (counts["all"], counts["waiting"], counts["suspended"]) == (1, 0, 1)


@pytest.mark.django_db
def test_the_due_filter_reads_the_latest_check_only(personas: Personas) -> None:
    hana = _vet(personas, personas.hana_helper, date(2020, 1, 1))
    assert list(helper_desk_list(circle=personas.southwark, show=HelperShow.DUE)) == [hana]

    _vet(personas, hana, timezone.localdate())  # renewed

    assert not helper_desk_list(circle=personas.southwark, show=HelperShow.DUE).exists()
    assert helper_desk_counts(circle=personas.southwark)["due"] == 0


@pytest.mark.django_db
def test_helper_get_and_names_are_scoped_to_the_circle(personas: Personas) -> None:
    from circle.errors import NotFound

    suffolk = HelperFactory(member=MemberFactory(circle=personas.suffolk, roles=[RoleName.HELPER]))
    with pytest.raises(NotFound):
        helper_get(circle=personas.southwark, helper_id=suffolk.pk)
    assert helper_get(circle=personas.southwark, helper_id=personas.hana_helper.pk)
    assert helper_names(circle=personas.southwark) == [(personas.hana_helper.pk, "Hana Hughes")]


@pytest.mark.django_db
def test_the_suspension_history_is_the_helpers_own_newest_first(personas: Personas) -> None:
    caller = caller_for(user=personas.cora.user, circle=personas.southwark)
    other = _helper(personas, "Other Helper")
    helper_suspension_set(helper=other, caller=caller, suspended=True, reason="not hers")
    helper_suspension_set(
        helper=personas.hana_helper, caller=caller, suspended=True, reason="first"
    )
    helper_suspension_set(
        helper=personas.hana_helper, caller=caller, suspended=False, reason="second"
    )

    history = helper_suspension_history(helper=personas.hana_helper)

    assert [(e.action, e.reason) for e in history] == [
        ("helper.reinstated", "second"),
        ("helper.suspended", "first"),
    ]
