"""Members' words about helpers: preferring one, or blocking one."""

from __future__ import annotations

from django.db import transaction

from circle.errors import InvalidInput
from helpers.models import Helper
from matching.models import (
    HelperPreference,
    PreferenceKind,
)
from members.models import Member
from members.selectors import Caller
from members.services import audit_record


def preference_set(
    *, member: Member, helper: Helper, kind: str, caller: Caller, call_reference: str = ""
) -> tuple[HelperPreference, bool]:
    """A member names a preferred helper (offered first; one at a time, so naming another
    moves the word) or blocks one (never offered, cannot accept)."""
    if kind not in PreferenceKind.values:
        raise InvalidInput("invalid_choice", "kind is preferred or blocked.", field="kind")
    if helper.circle_id != member.circle_id:
        raise InvalidInput("helper_not_found", "No such helper in this circle.", field="helper_id")
    if helper.member_id == member.pk:
        raise InvalidInput("own_helper_profile", "This is the member's own helper profile.")
    with transaction.atomic(durable=True):
        current = (
            HelperPreference.objects.select_for_update().filter(member=member, helper=helper)
        ).first()
        if current is not None and current.kind == kind:
            return current, False
        if kind == PreferenceKind.PREFERRED:
            HelperPreference.objects.filter(member=member, kind=PreferenceKind.PREFERRED).exclude(
                helper=helper
            ).delete()
        if current is not None:
            HelperPreference.objects.filter(pk=current.pk).update(kind=kind)
            current.kind = kind
        else:
            current = HelperPreference.objects.create(
                circle=member.circle, member=member, helper=helper, kind=kind
            )
        audit_record(
            circle=member.circle,
            action=f"helper.{kind}",
            caller=caller,
            member=member,
            call_reference=call_reference.strip(),
            data={"helper_id": helper.pk, "kind": kind},
        )
    return current, True


def preference_remove(
    *, member: Member, helper: Helper, caller: Caller, call_reference: str = ""
) -> bool:
    with transaction.atomic(durable=True):
        deleted, _ = HelperPreference.objects.filter(member=member, helper=helper).delete()
        if deleted:
            audit_record(
                circle=member.circle,
                action="helper.preference_removed",
                caller=caller,
                member=member,
                call_reference=call_reference.strip(),
                data={"helper_id": helper.pk},
            )
    return bool(deleted)
