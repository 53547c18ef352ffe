"""Every way tokens move, through the services in tokens/services.py (no HTTP).

After each step the tests look at what a member would see (balance, held, available), at the
circle's system accounts, and at the audit log; a refused movement writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from circle.errors import Conflict, InvalidInput
from circle.models import Circle
from members.models import AuditEvent, Member
from tests.conftest import Personas
from tokens.models import (
    Account,
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    LedgerTransaction,
    TransactionKind,
)
from tokens.selectors import member_tokens
from tokens.services import (
    Posted,
    adjustment_create,
    grant_create,
    hold_create,
    hold_release,
    hold_settle,
    purchase_credit,
    reversal_create,
    transfer_create,
)

pytestmark = pytest.mark.django_db


# --- What the tests look at -------------------------------------------------------------------


def rows() -> tuple[int, int, int, int]:
    """Everything a movement writes: transactions, entries, audit events and holds."""
    return (
        LedgerTransaction.objects.count(),
        Entry.objects.count(),
        AuditEvent.objects.count(),
        Hold.objects.count(),
    )


def tokens_of(member: Member) -> tuple[int, int, int]:
    """(balance, held, available) in minutes, as GET /tokens/ shows them."""
    tokens = member_tokens(member=member)
    return tokens.balance, tokens.held, tokens.available


def system(circle: Circle, kind: str) -> int:
    return (
        Account.objects.filter(circle=circle, kind=kind).values_list("balance", flat=True).first()
        or 0
    )


def audit_of(posted: Posted) -> AuditEvent:
    """The one audit row written with this transaction."""
    return AuditEvent.objects.get(data__transaction_id=posted.transaction_id)


def buy(member: Member, minutes: int, key: str = "pay-1") -> Posted:
    return purchase_credit(member=member, minutes=minutes, payment_key=key, actor=None)


# --- Purchase ---------------------------------------------------------------------------------


def test_purchase_moves_minutes_from_issuance_to_the_wallet(personas: Personas) -> None:
    alice, southwark = personas.alice, personas.southwark

    posted = purchase_credit(
        member=alice, minutes=120, payment_key="cash-001", actor=personas.otto.user
    )

    assert posted.created
    assert tokens_of(alice) == (120, 0, 120)
    assert system(southwark, AccountKind.ISSUANCE) == -120
    tx = LedgerTransaction.objects.get(pk=posted.transaction_id)
    assert tx.kind == TransactionKind.PURCHASE
    assert tx.member_id == alice.pk
    event = audit_of(posted)
    assert event.action == "tokens.purchased"
    assert event.member_id == alice.pk
    assert event.actor_id == personas.otto.user_id
    assert event.actor_member_id == personas.otto.pk
    assert event.data["minutes"] == 120


def test_purchase_with_the_same_payment_key_credits_once(personas: Personas) -> None:
    alice = personas.alice
    first = buy(alice, 60, key="stripe-pi-1")
    before = rows()

    again = buy(alice, 60, key="stripe-pi-1")

    assert again == Posted(first.transaction_id, created=False)
    assert rows() == before
    assert tokens_of(alice) == (60, 0, 60)
    assert system(personas.southwark, AccountKind.ISSUANCE) == -60


def test_purchase_key_is_per_circle(personas: Personas) -> None:
    buy(personas.alice, 60, key="receipt-7")

    posted = buy(personas.sam, 60, key="receipt-7")

    assert posted.created
    assert tokens_of(personas.sam) == (60, 0, 60)
    assert system(personas.suffolk, AccountKind.ISSUANCE) == -60
    assert system(personas.southwark, AccountKind.ISSUANCE) == -60


@pytest.mark.parametrize("minutes", [0, -60, 1.5, "60", True])
def test_purchase_refuses_minutes_that_are_not_a_positive_whole_number(
    personas: Personas, minutes: object
) -> None:
    before = rows()

    with pytest.raises(InvalidInput) as refused:
        buy(personas.alice, minutes)

    assert (refused.value.code, refused.value.field) == ("invalid", "minutes")
    assert rows() == before


# --- Gift -------------------------------------------------------------------------------------


def test_gift_moves_minutes_from_one_member_to_another(personas: Personas) -> None:
    alice, bob = personas.alice, personas.bob
    buy(alice, 120)

    posted = transfer_create(
        source=alice,
        destination=bob,
        minutes=45,
        memo="for the lift",
        actor=alice.user,
        idempotency_key="g-1",
    )

    assert posted.created
    assert tokens_of(alice) == (75, 0, 75)
    assert tokens_of(bob) == (45, 0, 45)
    event = audit_of(posted)
    assert event.action == "tokens.gift"
    assert event.member_id == alice.pk
    assert event.data["to_member_id"] == bob.pk
    assert LedgerTransaction.objects.get(pk=posted.transaction_id).memo == "for the lift"


def test_gift_to_the_pot(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)

    posted = transfer_create(
        source=alice, destination=None, minutes=30, memo="", actor=alice.user, idempotency_key="g"
    )

    assert tokens_of(alice) == (90, 0, 90)
    assert system(personas.southwark, AccountKind.POT) == 30
    event = audit_of(posted)
    assert (event.action, event.data["to"]) == ("tokens.gift", "pot")


def test_gift_by_staff_records_reason_and_call_reference(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 60)

    posted = transfer_create(
        source=alice,
        destination=personas.bob,
        minutes=60,
        memo="",
        actor=personas.otto.user,
        idempotency_key="phone-1",
        reason="Alice asked on the phone",
        call_reference="CALL-42",
    )

    event = audit_of(posted)
    assert event.actor_id == personas.otto.user_id
    assert (event.reason, event.call_reference) == ("Alice asked on the phone", "CALL-42")


def test_gift_refused_when_more_than_available(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 60)
    before = rows()

    with pytest.raises(Conflict) as refused:
        transfer_create(
            source=alice,
            destination=personas.bob,
            minutes=61,
            memo="",
            actor=alice.user,
            idempotency_key="g",
        )

    assert refused.value.code == "insufficient_tokens"
    assert rows() == before
    assert tokens_of(alice) == (60, 0, 60)
    assert tokens_of(personas.bob) == (0, 0, 0)


def test_gift_cannot_spend_held_minutes(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 60)
    hold_create(member=alice, minutes=40, reference="task-1", actor=None)
    before = rows()

    with pytest.raises(Conflict) as refused:
        transfer_create(
            source=alice, destination=None, minutes=30, memo="", actor=None, idempotency_key="g"
        )

    assert refused.value.code == "insufficient_tokens"
    assert rows() == before
    assert tokens_of(alice) == (60, 40, 20)


def test_gift_to_oneself_is_refused(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 60)
    before = rows()

    with pytest.raises(InvalidInput) as refused:
        transfer_create(
            source=alice, destination=alice, minutes=10, memo="", actor=None, idempotency_key="g"
        )

    assert (refused.value.code, refused.value.field) == ("same_member", "to_member_id")
    assert rows() == before


def test_gift_to_a_member_of_another_circle_is_refused(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 60)
    before = rows()

    with pytest.raises(InvalidInput) as refused:
        transfer_create(
            source=alice,
            destination=personas.sam,
            minutes=10,
            memo="",
            actor=None,
            idempotency_key="g",
        )

    assert (refused.value.code, refused.value.field) == ("member_not_found", "to_member_id")
    assert rows() == before
    assert tokens_of(personas.sam) == (0, 0, 0)


# --- Hold, settle, release --------------------------------------------------------------------


def test_hold_moves_minutes_into_escrow(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)

    hold = hold_create(member=alice, minutes=90, reference="task-1", actor=alice.user)

    assert (hold.status, hold.minutes, hold.member_id) == (HoldStatus.OPEN, 90, alice.pk)
    assert tokens_of(alice) == (120, 90, 30)
    assert system(personas.southwark, AccountKind.ESCROW) == 90
    event = AuditEvent.objects.get(data__transaction_id=hold.hold_transaction_id)
    assert (event.action, event.data["reference"]) == ("tokens.held", "task-1")


def test_hold_with_the_same_reference_returns_the_first_hold(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)
    first = hold_create(member=alice, minutes=60, reference="task-1", actor=None)
    before = rows()

    again = hold_create(member=alice, minutes=60, reference="task-1", actor=None)

    assert again.pk == first.pk
    assert rows() == before
    assert tokens_of(alice) == (120, 60, 60)


@pytest.mark.parametrize(("who", "minutes"), [("alice", 30), ("bob", 60)])
def test_hold_with_a_used_reference_for_a_different_hold_conflicts(
    personas: Personas, who: str, minutes: int
) -> None:
    buy(personas.alice, 120)
    buy(personas.bob, 120, key="pay-2")
    hold_create(member=personas.alice, minutes=60, reference="task-1", actor=None)
    before = rows()

    with pytest.raises(Conflict) as refused:
        hold_create(member=getattr(personas, who), minutes=minutes, reference="task-1", actor=None)

    assert refused.value.code == "idempotency_key_reused"
    assert rows() == before
    assert tokens_of(personas.alice) == (120, 60, 60)
    assert tokens_of(personas.bob) == (120, 0, 120)


def test_hold_refused_when_more_than_available(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 60)
    before = rows()

    with pytest.raises(Conflict) as refused:
        hold_create(member=alice, minutes=61, reference="task-1", actor=None)

    assert refused.value.code == "insufficient_tokens"
    assert rows() == before
    assert tokens_of(alice) == (60, 0, 60)


def test_settle_pays_the_volunteer_and_returns_the_rest(personas: Personas) -> None:
    alice, hana = personas.alice, personas.hana
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=90, reference="task-1", actor=None)

    posted = hold_settle(hold=hold, minutes_done=60, helper=hana, actor=personas.otto.user)

    assert tokens_of(alice) == (60, 0, 60)
    assert tokens_of(hana) == (60, 0, 60)
    assert system(personas.southwark, AccountKind.ESCROW) == 0
    hold.refresh_from_db()
    assert (hold.status, hold.close_transaction_id) == (HoldStatus.SETTLED, posted.transaction_id)
    event = audit_of(posted)
    assert event.action == "tokens.settled"
    assert (event.data["minutes_done"], event.data["returned"]) == (60, 30)
    assert event.data["helper_member_id"] == hana.pk


def test_settle_for_a_paid_helper_goes_to_paid_help(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=90, reference="task-1", actor=None)

    hold_settle(hold=hold, minutes_done=90, helper=None, actor=None)

    assert tokens_of(alice) == (30, 0, 30)
    assert system(personas.southwark, AccountKind.PAID_HELP) == 90
    assert system(personas.southwark, AccountKind.ESCROW) == 0


def test_settle_again_the_same_way_moves_nothing(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=90, reference="task-1", actor=None)
    first = hold_settle(hold=hold, minutes_done=60, helper=personas.hana, actor=None)
    before = rows()

    again = hold_settle(hold=hold, minutes_done=60, helper=personas.hana, actor=None)

    assert again == Posted(first.transaction_id, created=False)
    assert rows() == before
    assert tokens_of(personas.hana) == (60, 0, 60)


@pytest.mark.parametrize(("minutes_done", "paid"), [(30, False), (60, True)])
def test_settle_again_differently_is_refused(
    personas: Personas, minutes_done: int, paid: bool
) -> None:
    alice = personas.alice
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=90, reference="task-1", actor=None)
    hold_settle(hold=hold, minutes_done=60, helper=personas.hana, actor=None)
    before = rows()

    with pytest.raises(Conflict) as refused:
        hold_settle(
            hold=hold,
            minutes_done=minutes_done,
            helper=None if paid else personas.hana,
            actor=None,
        )

    assert refused.value.code == "hold_closed"
    assert rows() == before
    assert tokens_of(personas.hana) == (60, 0, 60)
    assert tokens_of(alice) == (60, 0, 60)


def test_settle_refused_for_more_minutes_than_held(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=60, reference="task-1", actor=None)
    before = rows()

    with pytest.raises(Conflict) as refused:
        hold_settle(hold=hold, minutes_done=61, helper=personas.hana, actor=None)

    assert refused.value.code == "more_than_held"
    assert rows() == before
    assert tokens_of(alice) == (120, 60, 60)


def test_settle_refused_for_a_helper_of_another_circle(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=60, reference="task-1", actor=None)
    before = rows()

    with pytest.raises(InvalidInput) as refused:
        hold_settle(hold=hold, minutes_done=30, helper=personas.sam, actor=None)

    assert refused.value.code == "member_not_found"
    assert rows() == before
    assert tokens_of(personas.sam) == (0, 0, 0)


def test_release_returns_everything_held(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=90, reference="task-1", actor=None)

    posted = hold_release(hold=hold, actor=personas.otto.user)

    assert tokens_of(alice) == (120, 0, 120)
    assert system(personas.southwark, AccountKind.ESCROW) == 0
    hold.refresh_from_db()
    assert hold.status == HoldStatus.RELEASED
    assert audit_of(posted).action == "tokens.released"


def test_release_again_moves_nothing(personas: Personas) -> None:
    alice = personas.alice
    buy(alice, 120)
    hold = hold_create(member=alice, minutes=90, reference="task-1", actor=None)
    first = hold_release(hold=hold, actor=None)
    before = rows()

    again = hold_release(hold=hold, actor=None)

    assert again == Posted(first.transaction_id, created=False)
    assert rows() == before
    assert tokens_of(alice) == (120, 0, 120)


def test_a_released_hold_cannot_be_settled_nor_a_settled_one_released(
    personas: Personas,
) -> None:
    alice = personas.alice
    buy(alice, 120)
    released = hold_create(member=alice, minutes=30, reference="task-1", actor=None)
    settled = hold_create(member=alice, minutes=30, reference="task-2", actor=None)
    hold_release(hold=released, actor=None)
    hold_settle(hold=settled, minutes_done=30, helper=personas.hana, actor=None)
    before = rows()

    with pytest.raises(Conflict) as settle_refused:
        hold_settle(hold=released, minutes_done=30, helper=personas.hana, actor=None)
    with pytest.raises(Conflict) as release_refused:
        hold_release(hold=settled, actor=None)

    assert settle_refused.value.code == release_refused.value.code == "hold_closed"
    assert rows() == before
    assert tokens_of(alice) == (90, 0, 90)


# --- Grant ------------------------------------------------------------------------------------


def fill_pot(personas: Personas, minutes: int) -> None:
    buy(personas.bob, minutes, key="bob-pays")
    transfer_create(
        source=personas.bob,
        destination=None,
        minutes=minutes,
        memo="",
        actor=None,
        idempotency_key="bob-to-pot",
    )


def test_grant_moves_minutes_from_the_pot_to_a_member(personas: Personas) -> None:
    fill_pot(personas, 60)

    posted = grant_create(
        member=personas.alice,
        minutes=45,
        reason="hardship",
        actor=personas.cora.user,
        idempotency_key="gr-1",
    )

    assert tokens_of(personas.alice) == (45, 0, 45)
    assert system(personas.southwark, AccountKind.POT) == 15
    event = audit_of(posted)
    assert (event.action, event.reason, event.actor_id) == (
        "tokens.granted",
        "hardship",
        personas.cora.user_id,
    )


def test_grant_refused_when_the_pot_is_short(personas: Personas) -> None:
    fill_pot(personas, 30)
    before = rows()

    with pytest.raises(Conflict) as refused:
        grant_create(
            member=personas.alice,
            minutes=31,
            reason="hardship",
            actor=personas.cora.user,
            idempotency_key="gr-1",
        )

    assert refused.value.code == "insufficient_tokens"
    assert rows() == before
    assert system(personas.southwark, AccountKind.POT) == 30
    assert tokens_of(personas.alice) == (0, 0, 0)


@pytest.mark.parametrize("reason", ["", "   "])
def test_grant_needs_a_reason(personas: Personas, reason: str) -> None:
    fill_pot(personas, 30)
    before = rows()

    with pytest.raises(InvalidInput) as refused:
        grant_create(
            member=personas.alice, minutes=10, reason=reason, actor=None, idempotency_key="gr"
        )

    assert (refused.value.code, refused.value.field) == ("required", "reason")
    assert rows() == before


# --- Adjustment -------------------------------------------------------------------------------


def test_adjustment_adds_minutes_against_the_adjustments_account(personas: Personas) -> None:
    posted = adjustment_create(
        member=personas.alice,
        minutes=30,
        reason="lost cash receipt",
        actor=personas.cora.user,
        idempotency_key="adj-1",
    )

    assert tokens_of(personas.alice) == (30, 0, 30)
    assert system(personas.southwark, AccountKind.ADJUSTMENTS) == -30
    event = audit_of(posted)
    assert (event.action, event.reason, event.data["minutes"]) == (
        "tokens.adjusted",
        "lost cash receipt",
        30,
    )


def test_adjustment_takes_minutes_out_of_a_wallet(personas: Personas) -> None:
    buy(personas.alice, 60)

    posted = adjustment_create(
        member=personas.alice,
        minutes=-20,
        reason="counted twice",
        actor=personas.cora.user,
        idempotency_key="adj-1",
    )

    assert tokens_of(personas.alice) == (40, 0, 40)
    assert system(personas.southwark, AccountKind.ADJUSTMENTS) == 20
    assert audit_of(posted).data["minutes"] == -20


def test_adjustment_cannot_take_more_than_the_wallet_has(personas: Personas) -> None:
    buy(personas.alice, 60)
    hold_create(member=personas.alice, minutes=30, reference="task-1", actor=None)
    before = rows()

    with pytest.raises(Conflict) as refused:
        adjustment_create(
            member=personas.alice,
            minutes=-31,
            reason="counted twice",
            actor=personas.cora.user,
            idempotency_key="adj-1",
        )

    assert refused.value.code == "insufficient_tokens"
    assert rows() == before
    assert tokens_of(personas.alice) == (60, 30, 30)


def test_adjustment_of_zero_is_refused(personas: Personas) -> None:
    before = rows()

    with pytest.raises(InvalidInput) as refused:
        adjustment_create(
            member=personas.alice, minutes=0, reason="x", actor=None, idempotency_key="adj"
        )

    assert (refused.value.code, refused.value.field) == ("invalid", "minutes")
    assert rows() == before


# --- Reversal ---------------------------------------------------------------------------------


def test_reversal_undoes_a_purchase(personas: Personas) -> None:
    original = buy(personas.alice, 60)

    posted = reversal_create(
        original=LedgerTransaction.objects.get(pk=original.transaction_id),
        reason="cheque bounced",
        actor=personas.cora.user,
    )

    assert tokens_of(personas.alice) == (0, 0, 0)
    assert system(personas.southwark, AccountKind.ISSUANCE) == 0
    reversal = LedgerTransaction.objects.get(pk=posted.transaction_id)
    assert (reversal.kind, reversal.reverses_id) == (
        TransactionKind.REVERSAL,
        original.transaction_id,
    )
    event = audit_of(posted)
    assert (event.action, event.reason, event.data["reverses"]) == (
        "tokens.reversed",
        "cheque bounced",
        original.transaction_id,
    )


def test_reversal_undoes_a_gift_to_the_pot(personas: Personas) -> None:
    buy(personas.alice, 60)
    gift = transfer_create(
        source=personas.alice,
        destination=None,
        minutes=60,
        memo="",
        actor=None,
        idempotency_key="g",
    )

    reversal_create(
        original=LedgerTransaction.objects.get(pk=gift.transaction_id), reason="mistake", actor=None
    )

    assert tokens_of(personas.alice) == (60, 0, 60)
    assert system(personas.southwark, AccountKind.POT) == 0


def test_reversal_happens_at_most_once(personas: Personas) -> None:
    original = LedgerTransaction.objects.get(pk=buy(personas.alice, 60).transaction_id)
    reversal_create(original=original, reason="cheque bounced", actor=None)
    before = rows()

    with pytest.raises(Conflict) as refused:
        reversal_create(original=original, reason="again", actor=None)
    with pytest.raises(Conflict) as refused_with_key:
        reversal_create(original=original, reason="again", actor=None, idempotency_key="other")

    assert refused.value.code == refused_with_key.value.code == "already_reversed"
    assert rows() == before
    assert tokens_of(personas.alice) == (0, 0, 0)


def test_reversal_with_the_same_key_returns_the_first_reversal(personas: Personas) -> None:
    original = LedgerTransaction.objects.get(pk=buy(personas.alice, 60).transaction_id)
    first = reversal_create(original=original, reason="r", actor=None, idempotency_key="rev-1")
    before = rows()

    again = reversal_create(original=original, reason="r", actor=None, idempotency_key="rev-1")

    assert again == Posted(first.transaction_id, created=False)
    assert rows() == before


def test_reversal_key_reused_for_another_transaction_conflicts(personas: Personas) -> None:
    # Two purchases of the same size have the same legs: only the transaction reversed tells
    # the two reversals apart.
    one = LedgerTransaction.objects.get(pk=buy(personas.alice, 60, key="p1").transaction_id)
    two = LedgerTransaction.objects.get(pk=buy(personas.alice, 60, key="p2").transaction_id)
    reversal_create(original=one, reason="r", actor=None, idempotency_key="rev-1")
    before = rows()

    with pytest.raises(Conflict) as refused:
        reversal_create(original=two, reason="r", actor=None, idempotency_key="rev-1")

    assert refused.value.code == "idempotency_key_reused"
    assert rows() == before
    assert not LedgerTransaction.objects.filter(reverses=two).exists()
    assert tokens_of(personas.alice) == (60, 0, 60)


@pytest.mark.parametrize("which", ["hold", "settle", "release", "reversal"])
def test_task_movements_and_reversals_are_not_reversible(personas: Personas, which: str) -> None:
    alice = personas.alice
    buy(alice, 120)
    purchase = buy(alice, 60, key="to-reverse")
    settled = hold_create(member=alice, minutes=30, reference="task-1", actor=None)
    released = hold_create(member=alice, minutes=30, reference="task-2", actor=None)
    transaction_ids = {
        "hold": settled.hold_transaction_id,
        "settle": hold_settle(
            hold=settled, minutes_done=30, helper=personas.hana, actor=None
        ).transaction_id,
        "release": hold_release(hold=released, actor=None).transaction_id,
        "reversal": reversal_create(
            original=LedgerTransaction.objects.get(pk=purchase.transaction_id),
            reason="r",
            actor=None,
        ).transaction_id,
    }
    before = rows()

    with pytest.raises(Conflict) as refused:
        reversal_create(
            original=LedgerTransaction.objects.get(pk=transaction_ids[which]),
            reason="undo",
            actor=None,
        )

    assert refused.value.code == "not_reversible"
    assert rows() == before


def test_reversal_refused_when_the_tokens_were_spent(personas: Personas) -> None:
    alice = personas.alice
    purchase = buy(alice, 60)
    transfer_create(
        source=alice, destination=personas.bob, minutes=40, memo="", actor=None, idempotency_key="g"
    )
    before = rows()

    with pytest.raises(Conflict) as refused:
        reversal_create(
            original=LedgerTransaction.objects.get(pk=purchase.transaction_id),
            reason="cheque bounced",
            actor=None,
        )

    assert refused.value.code == "insufficient_tokens"
    assert rows() == before
    assert tokens_of(alice) == (20, 0, 20)


def test_reversal_of_a_gift_to_the_pot_refused_when_the_pot_was_granted_out(
    personas: Personas,
) -> None:
    buy(personas.alice, 60)
    gift = transfer_create(
        source=personas.alice,
        destination=None,
        minutes=60,
        memo="",
        actor=None,
        idempotency_key="g",
    )
    grant_create(member=personas.bob, minutes=30, reason="need", actor=None, idempotency_key="gr")
    before = rows()

    with pytest.raises(Conflict) as refused:
        reversal_create(
            original=LedgerTransaction.objects.get(pk=gift.transaction_id), reason="r", actor=None
        )

    assert refused.value.code == "insufficient_tokens"
    assert rows() == before
    assert system(personas.southwark, AccountKind.POT) == 30


def test_reversal_needs_a_reason(personas: Personas) -> None:
    original = LedgerTransaction.objects.get(pk=buy(personas.alice, 60).transaction_id)
    before = rows()

    with pytest.raises(InvalidInput) as refused:
        reversal_create(original=original, reason=" ", actor=None)

    assert (refused.value.code, refused.value.field) == ("required", "reason")
    assert rows() == before


# --- Idempotency, for every movement that takes a key -----------------------------------------

# Each entry: a movement of `minutes` with one fixed key, for a circle prepared by `ready`.
Movement = Callable[[Personas, int], Posted]


def _gift_to_bob(p: Personas, minutes: int) -> Posted:
    return transfer_create(
        source=p.alice, destination=p.bob, minutes=minutes, memo="", actor=None, idempotency_key="k"
    )


def _gift_to_pot(p: Personas, minutes: int) -> Posted:
    return transfer_create(
        source=p.alice, destination=None, minutes=minutes, memo="", actor=None, idempotency_key="k"
    )


def _grant(p: Personas, minutes: int) -> Posted:
    return grant_create(
        member=p.alice, minutes=minutes, reason="r", actor=None, idempotency_key="k"
    )


def _adjust(p: Personas, minutes: int) -> Posted:
    return adjustment_create(
        member=p.alice, minutes=minutes, reason="r", actor=None, idempotency_key="k"
    )


def _purchase(p: Personas, minutes: int) -> Posted:
    return buy(p.alice, minutes, key="k")


def _hold(p: Personas, minutes: int) -> Posted:
    hold = hold_create(member=p.alice, minutes=minutes, reference="k", actor=None)
    return Posted(hold.hold_transaction_id, created=False)


MOVEMENTS: dict[str, Movement] = {
    "purchase": _purchase,
    "gift to a member": _gift_to_bob,
    "gift to the pot": _gift_to_pot,
    "grant": _grant,
    "adjustment": _adjust,
    "hold": _hold,
}


@pytest.mark.parametrize("name", MOVEMENTS)
def test_the_same_key_returns_the_first_result_and_moves_nothing(
    personas: Personas, name: str
) -> None:
    fill_pot(personas, 120)
    buy(personas.alice, 120, key="alice-pays")
    move = MOVEMENTS[name]
    first = move(personas, 30)
    after_first = rows(), tokens_of(personas.alice), tokens_of(personas.bob)
    pot = system(personas.southwark, AccountKind.POT)

    again = move(personas, 30)

    assert again.transaction_id == first.transaction_id
    assert not again.created
    assert (rows(), tokens_of(personas.alice), tokens_of(personas.bob)) == after_first
    assert system(personas.southwark, AccountKind.POT) == pot


@pytest.mark.parametrize("name", MOVEMENTS)
def test_the_same_key_for_a_different_movement_conflicts(personas: Personas, name: str) -> None:
    fill_pot(personas, 120)
    buy(personas.alice, 120, key="alice-pays")
    move = MOVEMENTS[name]
    move(personas, 30)
    after_first = rows(), tokens_of(personas.alice), tokens_of(personas.bob)

    with pytest.raises(Conflict) as refused:
        move(personas, 20)

    assert refused.value.code == "idempotency_key_reused"
    assert (rows(), tokens_of(personas.alice), tokens_of(personas.bob)) == after_first


def test_a_gift_key_reused_for_another_recipient_conflicts(personas: Personas) -> None:
    buy(personas.alice, 120)
    _gift_to_bob(personas, 30)
    before = rows()

    with pytest.raises(Conflict) as refused:
        _gift_to_pot(personas, 30)

    assert refused.value.code == "idempotency_key_reused"
    assert rows() == before
    assert system(personas.southwark, AccountKind.POT) == 0


def test_a_replay_is_answered_even_when_the_wallet_is_now_empty(personas: Personas) -> None:
    # The key is looked at before the balance: a retried gift whose first attempt took the
    # last minutes is a success, not an overdraft.
    buy(personas.alice, 30)
    first = _gift_to_bob(personas, 30)
    before = rows()

    again = _gift_to_bob(personas, 30)

    assert again == Posted(first.transaction_id, created=False)
    assert rows() == before
