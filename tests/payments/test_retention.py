"""Retention: members lapsed for more than RETENTION_YEARS are reported on their coordinators'
desk first, and erased (members.erasure) once the notice has run, unless a coordinator holds
them back; the job and `manage.py retention` are idempotent."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from attention.models import Item, ItemKind
from attention.services import item_resolve
from members.models import AuditEvent, Member
from members.selectors import MEMBER_ERASED, caller_for
from payments.services.retention import retention_due, retention_run
from tests.conftest import Personas
from tests.matching.conftest import give_tokens, make_active

pytestmark = pytest.mark.django_db

NOTICE = timedelta(days=30)


@pytest.fixture
def lapsed(personas: Personas) -> Personas:
    """Bob paid one year, eight years ago, and never again; Alice pays now."""
    with time_machine.travel(timezone.now() - timedelta(days=8 * 365), tick=False):
        make_active(personas.bob, by=personas.otto, reference="CASH-OLD")
    make_active(personas.alice, by=personas.otto)
    return personas


def item_of(member: Member) -> Item:
    return Item.objects.get(kind=ItemKind.RETENTION_DUE, member=member)


def test_reported_first_then_erased_after_the_notice(lapsed: Personas) -> None:
    now = timezone.now()
    assert [due.member.pk for due in retention_due(today=now.date())] == [lapsed.bob.pk]

    assert retention_run(now=now)["reported"] == 1
    item = item_of(lapsed.bob)
    assert item.done_at is None
    assert "Their personal data will be erased on" in item.note
    assert Member.objects.get(pk=lapsed.bob.pk).erased_at is None
    # Again, the same day and within the notice: nothing more.
    assert retention_run(now=now + timedelta(days=29)) == {
        "reported": 0,
        "waiting": 1,
        "held_back": 0,
        "erased": 0,
        "closed": 0,
    }

    assert retention_run(now=now + NOTICE + timedelta(hours=1))["erased"] == 1

    bob = Member.objects.get(pk=lapsed.bob.pk)
    assert bob.erased_at is not None
    assert bob.full_name == f"Former member {bob.pk}"
    event = AuditEvent.objects.get(action=MEMBER_ERASED)
    assert (event.actor_id, event.reason) == (None, "Retention: lapsed more than 6 years")
    assert item_of(lapsed.bob).done_at is not None
    # Idempotent: nobody left to report or erase.
    assert retention_run(now=now + NOTICE + timedelta(days=2)) == {
        "reported": 0,
        "waiting": 0,
        "held_back": 0,
        "erased": 0,
        "closed": 0,
    }
    assert Member.objects.get(pk=lapsed.alice.pk).erased_at is None


def test_a_coordinator_holds_someone_back(lapsed: Personas) -> None:
    now = timezone.now()
    retention_run(now=now)
    item_resolve(
        item=item_of(lapsed.bob),
        caller=caller_for(user=lapsed.cora.user, circle=lapsed.southwark),
        outcome="Held back: his daughter is disputing a refund",
    )
    counts = retention_run(now=now + NOTICE * 2)
    assert (counts["held_back"], counts["erased"]) == (1, 0)
    assert Member.objects.get(pk=lapsed.bob.pk).erased_at is None


def test_report_only_erases_nobody(lapsed: Personas) -> None:
    retention_run()
    out = StringIO()
    with time_machine.travel(timezone.now() + NOTICE * 2, tick=False):
        call_command("retention", "--report-only", stdout=out)
    assert f"member {lapsed.bob.pk} of southwark" in out.getvalue()
    assert "erased 0" in out.getvalue()
    assert Member.objects.get(pk=lapsed.bob.pk).erased_at is None


def test_the_command_erases_after_the_notice(lapsed: Personas) -> None:
    retention_run()
    out = StringIO()
    with time_machine.travel(timezone.now() + NOTICE * 2, tick=False):
        call_command("retention", stdout=out)
    assert "erased 1" in out.getvalue()
    assert Member.objects.get(pk=lapsed.bob.pk).erased_at is not None


def test_a_member_who_renews_in_the_notice_is_no_longer_due(lapsed: Personas) -> None:
    now = timezone.now()
    retention_run(now=now)
    make_active(lapsed.bob, by=lapsed.otto, reference="CASH-NEW")
    counts = retention_run(now=now + NOTICE * 2)
    assert (counts["closed"], counts["erased"]) == (1, 0)
    assert item_of(lapsed.bob).done_note == "No longer due for erasure."


def test_staff_helpers_active_this_year_and_held_tokens_are_never_due(
    personas: Personas,
) -> None:
    from matching.models import Task
    from matching.services import task_accept, task_book, task_complete, task_confirm
    from tests.matching.conftest import london, vet
    from tokens.services import hold_create

    long_ago = timezone.now() - timedelta(days=7 * 365)
    Member.objects.update(created_at=long_ago)
    # Everyone joined long ago and never paid: staff are never due, the others are...
    due = {d.member.pk for d in retention_due(today=timezone.localdate())}
    assert personas.otto.pk not in due
    assert personas.cora.pk not in due
    assert {personas.alice.pk, personas.bob.pk, personas.hana.pk} <= due

    # ...but not Bob with minutes held, nor Hana who helped Alice this year.
    give_tokens(personas.bob, minutes=120)
    hold_create(member=personas.bob, minutes=60, reference="kept", actor=None)
    make_active(personas.alice, by=personas.otto, tokens=2)
    vet(personas.hana_helper, by=personas.cora)
    cora = caller_for(user=personas.cora.user, circle=personas.southwark)
    booked = task_book(
        member=Member.objects.get(pk=personas.alice.pk),
        caller=cora,
        category="gardening",
        title="Trim the hedge",
        window_start=london(hour=10),
        window_end=london(hour=12),
        estimated_minutes=60,
    )
    task = Task.objects.get(pk=booked.task.pk)
    hana = caller_for(user=personas.hana.user, circle=personas.southwark)
    task_accept(task=task, helper=personas.hana_helper, caller=hana)
    task_complete(
        task=Task.objects.get(pk=task.pk), helper=personas.hana_helper, caller=hana, minutes=60
    )
    task_confirm(task=Task.objects.get(pk=task.pk), caller=cora)
    due = {d.member.pk for d in retention_due(today=timezone.localdate())}
    assert personas.bob.pk not in due
    assert personas.hana.pk not in due
    assert personas.alice.pk not in due


def test_not_due_while_lapsed_less_than_the_years(personas: Personas) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=3 * 365), tick=False):
        make_active(personas.bob, by=personas.otto, reference="CASH-3Y")
    assert personas.bob.pk not in {d.member.pk for d in retention_due(today=timezone.localdate())}
