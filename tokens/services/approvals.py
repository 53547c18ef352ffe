"""Four eyes on coordinators' corrections: an adjustment or a grant above the circle's
`approval_threshold_minutes`, or any adjustment to a helper who is also staff, waits for a
second coordinator before a minute moves.

`correction_ask` is what people call (the API, the pages): it posts at once what needs no
second pair of eyes, and otherwise writes an `Approval`, audits it and puts it on the circle's
attention queue. `approval_approve` posts the movement under the approval's row lock, with the
asker's idempotency key, so two coordinators approving at once post it once; `approval_refuse`
closes it with nothing moved. The one who asked can never decide (403), a decided approval is
decided for good (409), and each step writes an audit row in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from attention.models import ItemKind
from attention.services import item_close, item_raise
from circle.errors import Conflict, Forbidden
from members.models import STAFF_ROLES, Member, Role, RoleName
from members.selectors import Caller, own_record_refuse
from members.services import audit_record
from tokens.models import Approval, ApprovalKind, ApprovalStatus, LedgerTransaction
from tokens.services.movements import adjustment_create, grant_create
from tokens.services.posting import Posted, _check_key, _check_minutes, _require_reason

_POSTINGS: dict[str, Callable[..., Posted]] = {
    ApprovalKind.ADJUSTMENT: adjustment_create,
    ApprovalKind.GRANT: grant_create,
}
_WHAT: dict[str, str] = {
    ApprovalKind.ADJUSTMENT: "adjust tokens",
    ApprovalKind.GRANT: "grant tokens",
}


def approval_cause(approval: Approval) -> str:
    """The attention item's cause for this approval: one item per approval."""
    return f"approval:{approval.pk}"


def approval_needed(*, kind: str, member: Member, minutes: int) -> bool:
    """Whether this correction waits for a second coordinator: above the circle's threshold
    (either way: taking 100 hours out is as large as putting them in), or an adjustment to a
    helper who is also staff, who could otherwise be paid by a colleague unseen."""
    if abs(minutes) > member.circle.approval_threshold_minutes:
        return True
    if kind != ApprovalKind.ADJUSTMENT:
        return False
    roles = set(Role.objects.filter(member=member).values_list("role", flat=True))
    return RoleName.HELPER in roles and bool(roles & STAFF_ROLES)


def correction_ask(
    *, kind: str, member: Member, minutes: int, reason: str, caller: Caller, idempotency_key: str
) -> Posted | Approval:
    """A coordinator's adjustment or grant: posted at once (Posted), or waiting for a second
    coordinator (the pending Approval). The same key again answers what the first call did:
    the approval while it waits, the posted transaction once approved, 409 once refused."""
    post = _POSTINGS[kind]
    # The posting's own checks, first: a request that could never be posted never waits.
    minutes = _check_minutes(minutes, allow_negative=kind == ApprovalKind.ADJUSTMENT)
    _require_reason(reason)
    key = _check_key(idempotency_key)
    own_record_refuse(actor=caller.user, member=member, what=_WHAT[kind])
    existing = Approval.objects.filter(circle_id=member.circle_id, idempotency_key=key).first()
    if existing is not None:
        return _replay(existing, kind=kind, member=member, minutes=minutes)
    already_posted = LedgerTransaction.objects.filter(
        circle_id=member.circle_id, idempotency_key=f"{kind}:{key}"
    ).exists()
    if already_posted or not approval_needed(kind=kind, member=member, minutes=minutes):
        # (A key already posted replays, or is refused as reused, there.)
        return post(
            member=member, minutes=minutes, reason=reason, actor=caller.user, idempotency_key=key
        )
    assert caller.user is not None  # a coordinator is signed in
    try:
        with transaction.atomic(durable=True):
            approval = Approval.objects.create(
                circle_id=member.circle_id,
                kind=kind,
                member=member,
                minutes=minutes,
                reason=reason.strip()[:500],
                idempotency_key=key,
                asked_by=caller.user,
            )
            audit_record(
                circle=member.circle,
                action="tokens.approval_asked",
                caller=caller,
                member=member,
                reason=approval.reason,
                data={"approval_id": approval.pk, "kind": kind, "minutes": minutes},
            )
            item_raise(
                member=member,
                kind=ItemKind.APPROVAL_PENDING,
                cause=approval_cause(approval),
                note=f"{approval.get_kind_display()} of {minutes:+d} minutes: {approval.reason}",
                audit_data={"approval_id": approval.pk},
            )
    except IntegrityError:
        # The same key at the same moment: the other call's approval is the answer.
        first = Approval.objects.filter(circle_id=member.circle_id, idempotency_key=key).first()
        if first is None:
            raise
        return _replay(first, kind=kind, member=member, minutes=minutes)
    return approval


def _replay(approval: Approval, *, kind: str, member: Member, minutes: int) -> Posted | Approval:
    """The key asked before: still waiting (the approval), posted once approved (what was
    posted, not again), or refused (409: a refusal is not undone by asking twice)."""
    if (approval.kind, approval.member_id, approval.minutes) != (kind, member.pk, minutes):
        raise Conflict(
            "idempotency_key_reused",
            "That idempotency key was already used for a different movement.",
            field="idempotency_key",
        )
    if approval.status == ApprovalStatus.APPROVED:
        assert approval.transaction_id is not None  # the database holds this
        return Posted(approval.transaction_id, False)
    if approval.status == ApprovalStatus.REFUSED:
        raise Conflict("approval_refused", "Another coordinator refused this; nothing moved.")
    return approval


def _decision_check(approval: Approval, caller: Caller) -> None:
    if not caller.is_coordinator or caller.user is None:
        raise Forbidden("forbidden", "Only the circle's coordinators decide approvals.")
    if approval.asked_by_id == caller.user.pk:
        raise Forbidden(
            "approval_own_request",
            "Another coordinator must decide this: the one who asked never does.",
        )
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict("approval_decided", f"That approval was already {approval.status}.")


def approval_approve(*, approval: Approval, caller: Caller, reason: str = "") -> Approval:
    """A second coordinator agrees: the movement is posted, once."""
    with transaction.atomic(durable=True):
        # The row lock queues two approvers; the second finds it decided (409) and posts
        # nothing. The posting's key is the asker's, so even a replay could not post twice.
        # Only the approval's row is locked (`of`): the circle and member are read, not held.
        locked = (
            Approval.objects.select_for_update(of=("self",))
            .select_related("circle", "member", "member__circle")
            .get(pk=approval.pk)
        )
        _decision_check(locked, caller)
        posted = _POSTINGS[locked.kind](
            member=locked.member,
            minutes=locked.minutes,
            reason=locked.reason,
            actor=caller.user,
            idempotency_key=locked.idempotency_key,
        )
        _decide(
            locked, caller, ApprovalStatus.APPROVED, reason, transaction_id=posted.transaction_id
        )
    return locked


def approval_refuse(*, approval: Approval, caller: Caller, reason: str = "") -> Approval:
    """A second coordinator disagrees: nothing moves, and the approval is closed."""
    with transaction.atomic(durable=True):
        locked = (
            Approval.objects.select_for_update(of=("self",))
            .select_related("circle", "member", "member__circle")
            .get(pk=approval.pk)
        )
        _decision_check(locked, caller)
        _decide(locked, caller, ApprovalStatus.REFUSED, reason, transaction_id=None)
    return locked


def _decide(
    approval: Approval, caller: Caller, status: str, reason: str, *, transaction_id: int | None
) -> None:
    approval.status = status
    approval.decided_by = caller.user
    approval.decided_at = timezone.now()
    approval.decision_reason = reason.strip()[:500]
    approval.transaction_id = transaction_id
    approval.save(
        update_fields=["status", "decided_by", "decided_at", "decision_reason", "transaction"]
    )
    audit_record(
        circle=approval.circle,
        action=f"tokens.approval_{status}",
        caller=caller,
        member=approval.member,
        reason=approval.decision_reason,
        data={
            "approval_id": approval.pk,
            "kind": approval.kind,
            "minutes": approval.minutes,
            "transaction_id": transaction_id,
        },
    )
    item_close(
        member=approval.member,
        kind=ItemKind.APPROVAL_PENDING,
        cause=approval_cause(approval),
        caller=caller,
        note=f"Approval {status}",
    )
