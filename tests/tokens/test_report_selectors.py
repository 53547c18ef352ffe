"""Tokens bought, earned, spent and given per month, checked against a small history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from circle.periods import report_period
from helpers.models import HelperKind
from tests.conftest import Personas
from tests.matching.conftest import give_tokens, new_helper, world  # noqa: F401 (a fixture)
from tests.report_history import task_lived
from tokens.models import LedgerTransaction
from tokens.selectors import tokens_by_month
from tokens.services import reversal_create, transfer_create

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int = 10) -> datetime:
    return timezone.make_aware(datetime(year, month, day, 12))  # noqa: DTZ001


def backdate(prefixes: list[str], when: datetime) -> None:
    """PostgreSQL stamps a ledger transaction with the database's transaction time, which no
    clock in Python moves, and refuses updates: lift the refusal for this test's own
    transaction only (SQLite took the travelled time already)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # The deferred balance checks run now (they pass), as ALTER TABLE needs none pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE tokens_transaction DISABLE TRIGGER tokens_transaction_append_only"
        )
        for prefix in prefixes:
            cursor.execute(
                "UPDATE tokens_transaction SET created_at = %s WHERE idempotency_key LIKE %s "
                "AND created_at > %s",
                [when, prefix + "%", when],
            )
        cursor.execute(
            "ALTER TABLE tokens_transaction ENABLE TRIGGER tokens_transaction_append_only"
        )


def test_each_movement_counts_in_its_month(world: Personas) -> None:  # noqa: F811
    now = timezone.now()
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    paid_helper = new_helper(world, "Pat", kind=HelperKind.PAID, skills=["gardening"])
    with time_machine.travel(at(last_month.year, last_month.month), tick=False):
        give_tokens(world.alice, minutes=600, key="last-month")  # bought 600
        transfer_create(
            source=world.alice,
            destination=world.bob,
            minutes=60,
            memo="for Bob",
            idempotency_key="g1",
            actor=world.alice.user,
        )
        transfer_create(
            source=world.alice,
            destination=None,
            minutes=30,
            memo="to the pot",
            idempotency_key="g2",
            actor=world.alice.user,
        )
    backdate(["purchase:last-month", "gift:"], at(last_month.year, last_month.month))
    with time_machine.travel(now, tick=False):
        # Held 120, 90 done by the volunteer Hana: earned 90, spent 90, 30 back to Alice.
        task_lived(
            member=world.alice,
            helper=world.hana_helper,
            asked=now,
            wait=timedelta(hours=1),
            minutes=90,
        )
        # A paid helper's 60: spent, not earned.
        task_lived(
            member=world.alice, helper=paid_helper, asked=now, wait=timedelta(hours=1), minutes=60
        )
        give_tokens(world.bob, minutes=120, key="b1")
        bought = LedgerTransaction.objects.get(idempotency_key="purchase:b1")
        reversal_create(original=bought, reason="mistake", actor=world.cora.user)

    months = tokens_by_month(circle=world.southwark, period=report_period(months=3))

    table = {m.month: (m.bought, m.earned, m.spent, m.given) for m in months}
    assert len(table) == 3
    assert table[last_month] == (600, 0, 0, 90)
    # The world's own purchases (Alice 300, Bob 120) were today; Bob's later 120 was reversed.
    assert table[this_month] == (420, 90, 150, 0)
    assert LedgerTransaction.objects.filter(circle=world.suffolk).count() == 0
    assert tokens_by_month(circle=world.suffolk, period=report_period(months=3))[-1].bought == 0
