"""`purchase_refund`: tokens given back for money refunded, once per refund, never overdrawn."""

from __future__ import annotations

import pytest

from circle.errors import Conflict, InvalidInput
from tests.conftest import Personas
from tokens.models import Account, AccountKind, LedgerTransaction
from tokens.selectors import member_tokens
from tokens.services import purchase_credit, purchase_refund

pytestmark = pytest.mark.django_db


def test_a_refund_moves_minutes_from_the_wallet_back_to_issuance(personas: Personas) -> None:
    purchase_credit(member=personas.alice, minutes=180, payment_key="p1", actor=None)

    posted = purchase_refund(
        member=personas.alice, minutes=60, refund_key="r1", actor=None, reason="moved", memo=""
    )
    again = purchase_refund(
        member=personas.alice, minutes=60, refund_key="r1", actor=None, reason="moved", memo=""
    )

    assert posted.created
    assert not again.created
    assert again.transaction_id == posted.transaction_id
    assert member_tokens(member=personas.alice).balance == 120
    issuance = Account.objects.get(circle=personas.southwark, kind=AccountKind.ISSUANCE)
    assert issuance.balance == -120


def test_a_refund_of_more_than_the_wallet_holds_is_refused(personas: Personas) -> None:
    purchase_credit(member=personas.alice, minutes=60, payment_key="p1", actor=None)
    with pytest.raises(Conflict) as refused:
        purchase_refund(
            member=personas.alice, minutes=61, refund_key="r1", actor=None, reason="x", memo=""
        )
    assert refused.value.code == "insufficient_tokens"
    assert LedgerTransaction.objects.count() == 1


def test_a_refund_needs_a_reason_and_positive_minutes(personas: Personas) -> None:
    with pytest.raises(InvalidInput):
        purchase_refund(
            member=personas.alice, minutes=10, refund_key="r", actor=None, reason=" ", memo=""
        )
    with pytest.raises(InvalidInput):
        purchase_refund(
            member=personas.alice, minutes=0, refund_key="r", actor=None, reason="x", memo=""
        )
