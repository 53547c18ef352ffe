"""The token ledger's part of erasing a member (members/erasure.py).

The ledger itself stays as it is: entries and transactions are append-only and the books must
still balance. What goes are the member's words in memos, by redaction rows read in front of
them (tokens.models.MemoRedaction), and in the reasons of approvals asked for them. Refused
while minutes are held in escrow for them: those belong to a request still in play."""

from __future__ import annotations

from django.db.models import Q, Sum

from circle import words
from circle.errors import Conflict, DomainError
from members.erasure import Erasure
from members.models import Member
from tokens.memos import MEMO_SHOWN
from tokens.models import Approval, Hold, HoldStatus, LedgerTransaction, MemoRedaction


def erase_refusal(member: Member) -> DomainError | None:
    held = (
        Hold.objects.filter(member=member, status=HoldStatus.OPEN).aggregate(t=Sum("minutes"))["t"]
        or 0
    )
    if not held:
        return None
    return Conflict(
        "tokens_held",
        f"{member.first_name} still has {words.duration(held)} held for a request; "
        "cancel or finish it first.",
    )


def erase_part(erasure: Erasure) -> None:
    member = erasure.member
    transactions = (
        LedgerTransaction.objects.filter(circle_id=member.circle_id)
        .annotate(memo_shown=MEMO_SHOWN)
        .filter(Q(member_id=member.pk) | erasure.quoting("memo_shown"))
        .values_list("pk", "memo_shown")
    )
    redacted = 0
    for tx_id, memo in transactions:
        new = erasure.redact(memo or "", own=True)
        if new != memo:
            MemoRedaction.objects.update_or_create(transaction_id=tx_id, defaults={"memo": new})
            redacted += 1
    erasure.count("memos", redacted)
    approvals = 0
    for approval in Approval.objects.filter(circle_id=member.circle_id).filter(
        Q(member=member) | erasure.quoting("reason", "decision_reason")
    ):
        reason = erasure.redact(approval.reason, own=True)
        decision = erasure.redact(approval.decision_reason, own=True)
        if (reason, decision) != (approval.reason, approval.decision_reason):
            Approval.objects.filter(pk=approval.pk).update(reason=reason, decision_reason=decision)
            approvals += 1
    erasure.count("approvals", approvals)
