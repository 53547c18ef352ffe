"""The movements people ask for: purchases and their refunds, gifts, grants from the pot,
coordinators' adjustments and reversals."""

from __future__ import annotations

from circle.errors import Conflict, Forbidden, InvalidInput
from circle.retry import retry_on_conflict
from members.models import Member, User
from members.selectors import is_staff_of, member_is_staff, own_record_refuse
from tokens.models import (
    AccountKind,
    LedgerTransaction,
    TransactionKind,
)
from tokens.services.accounts import system_account_id, wallet_id
from tokens.services.posting import (
    Posted,
    _actor_key,
    _check_key,
    _check_minutes,
    _post,
    _require_reason,
)


@retry_on_conflict
def purchase_credit(
    *, member: Member, minutes: int, payment_key: str, actor: User | None, memo: str = ""
) -> Posted:
    """Tokens bought: issuance → the member's wallet, once per payment (the key names it)."""
    minutes = _check_minutes(minutes)
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.PURCHASE,
        key=f"purchase:{_check_key(payment_key)}",
        legs=[
            (system_account_id(member.circle_id, AccountKind.ISSUANCE), -minutes),
            (wallet_id(member), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo=memo or "Tokens bought",
        action="tokens.purchased",
        data={"minutes": minutes, "payment": payment_key},
        # Into a wallet from issuance: no balance rule can refuse it (see _post).
        refusable=False,
    )


@retry_on_conflict
def purchase_refund(
    *, member: Member, minutes: int, refund_key: str, actor: User | None, reason: str, memo: str
) -> Posted:
    """Tokens given back for money refunded: the member's wallet → issuance, once per refund
    (the key names it). Part of a purchase may be refunded, so this is not a reversal (which
    mirrors a whole transaction, once); it is a purchase the other way, kind `purchase`, so the
    ledger's kinds (and their triggers) stay as they are. The wallet's CHECK refuses a refund
    of tokens already spent."""
    minutes = _check_minutes(minutes)
    _require_reason(reason)
    own_record_refuse(actor=actor, member=member, what="refund tokens")
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.PURCHASE,
        key=f"refund:{_check_key(refund_key)}",
        legs=[
            (wallet_id(member), -minutes),
            (system_account_id(member.circle_id, AccountKind.ISSUANCE), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo=memo or "Tokens refunded",
        action="tokens.refunded",
        reason=reason.strip(),
        data={"minutes": minutes, "refund": refund_key},
    )


@retry_on_conflict
def transfer_create(
    *,
    source: Member,
    destination: Member | None,
    minutes: int,
    memo: str,
    actor: User | None,
    idempotency_key: str,
    reason: str = "",
    call_reference: str = "",
) -> Posted:
    """A gift from one member to another, or to the circle's pot (destination None).

    Staff moving a member's tokens (the actor is not the giver) never move them to themselves
    or to another member of staff (403), and say why (`reason`, shown on the giver's
    statement): a member's wallet is not staff's to empty quietly."""
    minutes = _check_minutes(minutes)
    key = _check_key(idempotency_key)
    if (
        actor is not None
        and actor.pk != source.user_id
        and is_staff_of(user=actor, circle_id=source.circle_id)
    ):
        _staff_transfer_check(actor=actor, destination=destination, reason=reason)
    if destination is not None:
        if destination.circle_id != source.circle_id:
            raise InvalidInput(
                "member_not_found", "No such member in this circle.", field="to_member_id"
            )
        if destination.pk == source.pk:
            raise InvalidInput(
                "same_member", "A gift needs someone else to receive it.", field="to_member_id"
            )
        to_account = wallet_id(destination)
    else:
        to_account = system_account_id(source.circle_id, AccountKind.POT)
    return _post(
        circle_id=source.circle_id,
        kind=TransactionKind.GIFT,
        key=f"gift:{_actor_key(key, actor)}",
        legs=[(wallet_id(source), -minutes), (to_account, minutes)],
        member_id=source.pk,
        actor=actor,
        memo=memo,
        action="tokens.gift",
        reason=reason,
        call_reference=call_reference,
        data={
            "minutes": minutes,
            "to_member_id": destination.pk if destination else None,
            "to": "member" if destination else "pot",
        },
    )


def _staff_transfer_check(*, actor: User, destination: Member | None, reason: str) -> None:
    if destination is not None:
        if destination.user_id == actor.pk:
            raise Forbidden(
                "own_record",
                "Staff never move a member's tokens to their own member record.",
                field="to_member_id",
            )
        if member_is_staff(destination):
            raise Forbidden(
                "staff_recipient",
                "Staff never move a member's tokens to a member of staff.",
                field="to_member_id",
            )
    _require_reason(reason)


@retry_on_conflict
def grant_create(
    *, member: Member, minutes: int, reason: str, actor: User | None, idempotency_key: str
) -> Posted:
    """From the pot to a member in hardship. The pot cannot go below zero. Never by staff
    for themselves (403 `own_record`). Large grants wait for a second coordinator first
    (tokens/services/approvals.py); this is the posting itself."""
    minutes = _check_minutes(minutes)
    _require_reason(reason)
    own_record_refuse(actor=actor, member=member, what="grant tokens")
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.GRANT,
        key=f"grant:{_actor_key(_check_key(idempotency_key), actor)}",
        # The pot's CHECK (never negative) refuses a grant it cannot cover.
        legs=[
            (system_account_id(member.circle_id, AccountKind.POT), -minutes),
            (wallet_id(member), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo="Granted from the pot",
        action="tokens.granted",
        reason=reason.strip(),
        data={"minutes": minutes},
    )


@retry_on_conflict
def adjustment_create(
    *, member: Member, minutes: int, reason: str, actor: User | None, idempotency_key: str
) -> Posted:
    """A coordinator's correction: minutes into (positive) or out of (negative) a wallet,
    against the circle's adjustments account. Never by staff for themselves (403
    `own_record`). Large adjustments, and any to a helper who is also staff, wait for a second
    coordinator first (tokens/services/approvals.py); this is the posting itself."""
    minutes = _check_minutes(minutes, allow_negative=True)
    _require_reason(reason)
    own_record_refuse(actor=actor, member=member, what="adjust tokens")
    return _post(
        circle_id=member.circle_id,
        kind=TransactionKind.ADJUSTMENT,
        key=f"adjustment:{_actor_key(_check_key(idempotency_key), actor)}",
        legs=[
            (system_account_id(member.circle_id, AccountKind.ADJUSTMENTS), -minutes),
            (wallet_id(member), minutes),
        ],
        member_id=member.pk,
        actor=actor,
        memo="Adjustment by a coordinator",
        action="tokens.adjusted",
        reason=reason.strip(),
        data={"minutes": minutes},
    )


# Task-bound movements are undone by their own services (release, settle), not by reversal,
# so that a hold's row and its minutes in escrow never disagree.
REVERSIBLE_KINDS = frozenset(
    {
        TransactionKind.PURCHASE,
        TransactionKind.GIFT,
        TransactionKind.GRANT,
        TransactionKind.ADJUSTMENT,
    }
)


@retry_on_conflict
def reversal_create(
    *, original: LedgerTransaction, reason: str, actor: User | None, idempotency_key: str = ""
) -> Posted:
    """Undo a transaction with its mirror image. At most once (the database holds that).
    Never by staff on their own member record's transaction (403 `own_record`)."""
    _require_reason(reason)
    if original.member is not None:
        own_record_refuse(actor=actor, member=original.member, what="reverse a transaction")
    if original.kind not in REVERSIBLE_KINDS:
        raise Conflict(
            "not_reversible",
            f"A {original.kind} is undone through its task (cancel or settle), not reversed.",
        )
    # A key the coordinator gave is theirs (scoped to them); without one, the reversal is keyed
    # on the original, which the database lets be reversed once whoever asks.
    key = (
        f"reversal:{_actor_key(_check_key(idempotency_key), actor)}"
        if idempotency_key
        else f"reversal:of-{original.pk}"
    )
    existing = LedgerTransaction.objects.filter(reverses=original).first()
    if existing is not None:
        if idempotency_key and existing.idempotency_key == key:
            return Posted(existing.pk, False)
        raise Conflict("already_reversed", "That transaction has already been reversed.")
    legs = [
        (account, -minutes)
        for account, minutes in original.entries.values_list("account_id", "minutes")
    ]
    posted = _post(
        circle_id=original.circle_id,
        kind=TransactionKind.REVERSAL,
        key=key,
        legs=legs,
        member_id=original.member_id,
        actor=actor,
        memo=f"Reversal of {original.kind} #{original.pk}",
        reverses_id=original.pk,
        action="tokens.reversed",
        reason=reason.strip(),
        data={"reverses": original.pk},
    )
    # `_replay` compares kind and legs, and two originals can have equal legs (two purchases of
    # an hour): a key first used to reverse one must not pass for reversing the other, which
    # would stay unreversed while the caller is told it was.
    if (
        not posted.created
        and not LedgerTransaction.objects.filter(
            pk=posted.transaction_id, reverses_id=original.pk
        ).exists()
    ):
        raise Conflict(
            "idempotency_key_reused",
            "That idempotency key was already used for a different movement.",
            field="idempotency_key",
        )
    return posted
