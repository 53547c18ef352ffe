"""Holds for booked tasks: into escrow when a task is booked, settled to the helper (and back
to the member) when it is done, or released when it is cancelled or expires."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from circle.errors import Conflict, InvalidInput
from circle.retry import retry_on_conflict
from members.models import Member, User
from tokens.models import (
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    TransactionKind,
)
from tokens.services.accounts import system_account_id, wallet_id
from tokens.services.posting import Posted, _check_key, _check_minutes, _post


@retry_on_conflict
def hold_create(
    *, member: Member, minutes: int, reference: str, actor: User | None, memo: str = ""
) -> Hold:
    """Put minutes from the member's wallet into escrow for a booked task. One hold per
    reference: booking the same task twice returns the first hold. `memo` is what the
    member's statement says (by default the reference)."""
    minutes = _check_minutes(minutes)
    reference = _check_key(reference)
    # The movement is written first, keyed on the reference: a booking is almost never a
    # repeat, so the hold is looked up only when the ledger says the key was used before.
    with transaction.atomic(durable=not connection.in_atomic_block):
        try:
            posted = _post(
                circle_id=member.circle_id,
                kind=TransactionKind.HOLD,
                key=f"hold:{reference}",
                legs=[
                    (wallet_id(member), -minutes),
                    (system_account_id(member.circle_id, AccountKind.ESCROW), minutes),
                ],
                member_id=member.pk,
                actor=actor,
                memo=memo or f"Held for {reference}",
                action="tokens.held",
                data={"minutes": minutes, "reference": reference},
            )
        except Conflict as exc:
            if exc.code == "idempotency_key_reused":
                raise _reference_reused() from None
            raise
        if not posted.created:
            # The reference was held before (or by a concurrent booking, which won): that hold
            # is the hold, if it is the same one. (The ledger compared the legs already: the
            # same wallet and minutes.)
            existing = Hold.objects.get(circle_id=member.circle_id, reference=reference)
            if existing.member_id != member.pk or existing.minutes != minutes:
                raise _reference_reused()
            return existing
        return Hold.objects.create(
            circle_id=member.circle_id,
            member=member,
            reference=reference,
            minutes=minutes,
            hold_transaction_id=posted.transaction_id,
        )


def _reference_reused() -> Conflict:
    # The reference is the hold's idempotency key: only the same hold again is a replay, not
    # another member's or another size of hold under the same reference.
    return Conflict(
        "idempotency_key_reused",
        "That reference already holds tokens for a different booking.",
        field="reference",
    )


def _close_hold(
    *,
    hold: Hold,
    status: str,
    kind: str,
    legs: list[tuple[int, int]],
    actor: User | None,
    action: str,
    data: dict[str, Any],
    memo: str = "",
) -> Posted:
    legs = sorted(leg for leg in legs if leg[1] != 0)  # nothing returned: no entry for it
    with transaction.atomic(durable=not connection.in_atomic_block):
        # Lock the hold so that a settle and a release racing for it run one after the other;
        # the second sees it closed.
        locked = Hold.objects.select_for_update().get(pk=hold.pk)
        if locked.status != HoldStatus.OPEN:
            # Only the same close again is a replay: a settle with other minutes or another
            # helper must not be answered as if it had happened.
            closed_legs = Entry.objects.filter(transaction_id=locked.close_transaction_id)
            same = sorted(closed_legs.values_list("account_id", "minutes")) == legs
            if locked.status == status and same and locked.close_transaction_id is not None:
                return Posted(locked.close_transaction_id, False)
            raise Conflict("hold_closed", f"The hold was already {locked.status}.")
        posted = _post(
            circle_id=locked.circle_id,
            kind=kind,
            key=f"{kind}:{locked.pk}",
            legs=legs,
            member_id=locked.member_id,
            actor=actor,
            memo=memo or f"{kind.capitalize()} {locked.reference}",
            action=action,
            data={**data, "reference": locked.reference},
        )
        Hold.objects.filter(pk=locked.pk).update(
            status=status, close_transaction_id=posted.transaction_id
        )
        hold.status, hold.close_transaction_id = status, posted.transaction_id
        return posted


@retry_on_conflict
def hold_release(*, hold: Hold, actor: User | None, memo: str = "") -> Posted:
    """Everything held goes back to the member (a cancelled or expired task)."""
    escrow = system_account_id(hold.circle_id, AccountKind.ESCROW)
    return _close_hold(
        hold=hold,
        status=HoldStatus.RELEASED,
        kind=TransactionKind.RELEASE,
        legs=[(escrow, -hold.minutes), (wallet_id(hold.member), hold.minutes)],
        actor=actor,
        action="tokens.released",
        data={"minutes": hold.minutes},
        memo=memo,
    )


@retry_on_conflict
def hold_settle(
    *,
    hold: Hold,
    minutes_done: int,
    helper: Member | None,
    actor: User | None,
    overrun: int = 0,
    memo: str = "",
) -> Posted:
    """Pay for work done from a hold: the minutes done to the volunteer's wallet (or, for a
    paid helper, `helper=None`, to the circle's paid_help account); the rest back to the member.

    `overrun` is what the work took beyond the whole hold, paid from the member's wallet in the
    same transaction (so `minutes_done` must then be all that is held). The wallet's CHECK
    refuses more than it holds (409 insufficient_tokens): the caller decides how much of an
    overrun the member can pay, and nothing ever drives a wallet negative.
    """
    minutes_done = _check_minutes(minutes_done, field="minutes")
    if minutes_done > hold.minutes:
        raise Conflict(
            "more_than_held",
            f"{minutes_done} minutes were done but only {hold.minutes} are held.",
            field="minutes",
        )
    if overrun < 0 or (overrun and minutes_done != hold.minutes):
        raise ValueError("an overrun is paid only once the whole hold is spent")  # a bug
    if helper is not None and helper.circle_id != hold.circle_id:
        raise InvalidInput("member_not_found", "No such helper in this circle.", field="helper")
    escrow = system_account_id(hold.circle_id, AccountKind.ESCROW)
    to = wallet_id(helper) if helper else system_account_id(hold.circle_id, AccountKind.PAID_HELP)
    rest = hold.minutes - minutes_done
    return _close_hold(
        hold=hold,
        status=HoldStatus.SETTLED,
        kind=TransactionKind.SETTLE,
        legs=[
            (escrow, -hold.minutes),
            (to, minutes_done + overrun),
            (wallet_id(hold.member), rest - overrun),
        ],
        actor=actor,
        action="tokens.settled",
        data={
            "minutes_done": minutes_done + overrun,
            "returned": rest,
            "overrun": overrun,
            "helper_member_id": helper.pk if helper else None,
        },
        memo=memo,
    )
