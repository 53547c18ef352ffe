"""What a volunteer's wallet earned by helping: settles of other members' tasks, not the
unused part of their own holds coming back, nor tokens bought or given."""

from __future__ import annotations

import pytest

from matching.models import TaskStatus
from tests.conftest import Personas
from tests.matching.tasks_factory import helper_near, make_task
from tokens.selectors import wallet_earnings
from tokens.services import hold_create, hold_settle, purchase_credit, transfer_create

pytestmark = pytest.mark.django_db


def test_earnings_count_settled_help_for_others_only(personas: Personas) -> None:
    hana = personas.hana_helper
    assert wallet_earnings(member=hana.member) == 0

    make_task(member=personas.alice, status=TaskStatus.SETTLED, helper=hana, minutes=90)
    make_task(member=personas.bob, status=TaskStatus.SETTLED, helper=hana, minutes=30)
    assert wallet_earnings(member=hana.member) == 120

    # Hana asks for help herself: 60 held, 30 used; the 30 back is not earned.
    ivy = helper_near(personas.alice, name="Ivy Ives")
    purchase_credit(member=hana.member, minutes=120, payment_key="hana-buys", actor=None)
    hold = hold_create(member=hana.member, minutes=60, reference="hana-own", actor=None)
    hold_settle(hold=hold, minutes_done=30, helper=ivy.member, actor=None)
    # Alice gives her tokens: a gift, not earnings.
    purchase_credit(member=personas.alice, minutes=60, payment_key="alice-buys", actor=None)
    transfer_create(
        source=personas.alice,
        destination=hana.member,
        minutes=60,
        memo="Thank you",
        actor=personas.alice.user,
        idempotency_key="thanks",
    )

    assert wallet_earnings(member=hana.member) == 120
    assert wallet_earnings(member=ivy.member) == 30
