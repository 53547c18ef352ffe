"""payments' follow-ups move into attention.Item with their ids, kinds and causes (the
migration payments 0003), and back again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from attention.models import Item
from members.models import User
from tests.conftest import Personas
from tests.payments.test_offline_payments import old_year_paid

BEFORE = [("payments", "0002_stripe"), ("attention", "0001_initial")]
# The attention app at its latest too: the test reads items through today's model.
AFTER = [
    ("payments", "0003_followups_to_attention"),
    ("attention", "0004_kinds_assignment"),
]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.fixture(autouse=True)
def _latest_schema_after() -> Iterator[None]:
    """Each test leaves the database at every app's latest migration, not at AFTER: later
    migrations (payments 0004...) would otherwise be missing for the tests that follow."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_followups_become_attention_items_with_their_ids_and_causes(personas: Personas) -> None:
    alice, cora = personas.alice, personas.cora
    period = old_year_paid(alice, start=date(2026, 1, 1), end=date(2026, 12, 31), reference="M1")
    executor = _migrate(BEFORE)
    FollowUp = executor.loader.project_state(BEFORE).apps.get_model("payments", "FollowUp")
    FollowUp.objects.create(
        id=41,
        circle_id=alice.circle_id,
        member_id=alice.pk,
        kind="grace",
        period_id=period.pk,
        phone="+447700900001",
        note="ring her",
    )
    FollowUp.objects.create(
        id=42,
        circle_id=alice.circle_id,
        member_id=alice.pk,
        kind="lapsed",
        phone="+447700900001",
        done_by_id=cora.user_id,
        done_note="rang",
    )

    _migrate(AFTER)

    items = {item.pk: item for item in Item.objects.all()}
    assert sorted(items) == [41, 42]
    assert (items[41].kind, items[41].cause, items[41].note) == (
        "grace",
        f"membership_period:{period.pk}",
        "ring her",
    )
    assert (items[42].cause, items[42].done_by, items[42].done_note) == (
        "",
        User.objects.get(pk=cora.user_id),
        "rang",
    )
    # New items are numbered after the moved ones.
    assert Item.objects.create(circle=alice.circle, member=alice, kind="grace").pk > 42

    executor = _migrate(BEFORE)
    FollowUp = executor.loader.project_state(BEFORE).apps.get_model("payments", "FollowUp")
    assert sorted(FollowUp.objects.values_list("id", "period_id")) == [
        (41, period.pk),
        (42, None),
        (43, None),
    ]
    _migrate(AFTER)
