"""Everything Circle holds about a member, for the UK GDPR right of access (issue 14).

The member's own rows live here; the other apps' rows live in those apps. `members` sits
low in the import floors (STYLE.md) and may not import tokens, helpers, matching, payments
or messaging, yet the export must gather from all of them. Rather than put the gatherer on
the top floor (`web`, which the API may not use) or in one app that would have to import its
own floor-mates (payments and matching import neither the other), each app registers its
own part here from its AppConfig.ready(): the dependency points upward only at run time,
through `export_part_register`, and every app reads only its own tables through its own
selector. A part answers one section of the export as JSON-ready data (no floats: money is a
string of pounds and pence) with a fixed number of queries, whatever the member's history.

What is left out, and why:
- safeguarding concerns (attention items of that kind, and their audit rows): the law
  lets a controller withhold what would prejudice the protection of the person or reveal a
  third party who raised a concern, and DESIGN.md keeps them from the person they are about;
- Stripe's identifiers and secrets (customer, payment intent, subscription ids): they are
  the processor's keys, not facts about the member, and are not needed to read a payment.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from members.models import AuditEvent, Member, Role, TrustedPerson, first_name_of

ExportPart = Callable[[Member], dict[str, Any]]

# Sections in the order the apps register them (INSTALLED_APPS order), by name.
_PARTS: dict[str, ExportPart] = {}

# Audit actions about a safeguarding concern: never shown to the person it is about.
SAFEGUARDING_ACTIONS = ("safeguarding.", "concern.")

# Audit rows an app holds back from the export (attention: those about a safeguarding
# concern's queue item), each a filter built for the member with a fixed number of queries.
_AUDIT_HIDDEN: dict[str, Callable[[Member], Q]] = {}


def export_part_register(*, name: str, part: ExportPart) -> None:
    """Add an app's section to every member's export. Called from AppConfig.ready(); a name
    registered twice (a reloaded app) keeps one part."""
    _PARTS[name] = part


def export_audit_hide_register(*, name: str, hidden: Callable[[Member], Q]) -> None:
    """Hold back the audit rows `hidden(member)` matches from a member's export."""
    _AUDIT_HIDDEN[name] = hidden


def export_parts() -> list[str]:
    return list(_PARTS)


def money(amount: Any) -> dict[str, str]:
    """A django-money amount as exact text: {"amount": "12.50", "currency": "GBP"}."""
    value: Decimal = amount.amount
    return {"amount": f"{value:.2f}", "currency": str(amount.currency)}


def person_name(user: Any) -> str:
    """Who did something, as a member reads it: the staff member's name, or their email."""
    if user is None:
        return ""
    return str(user.full_name or user)


def safeguarding_audit_rows(member: Member) -> Q:
    """The audit rows about `member` that are about a safeguarding concern: never shown to the
    person a concern is about (their copy of their data, what staff did for them). Each app's
    registered filter adds its own (attention: the rows naming a concern's queue item)."""
    safeguarding = Q()
    for prefix in SAFEGUARDING_ACTIONS:
        safeguarding |= Q(action__startswith=prefix)
    # Whatever raised it, a row that names a concern's kind is about the concern.
    # (has_key first: a row without the key must not be dropped by NOT (NULL = ...).)
    safeguarding |= Q(data__has_key="kind") & Q(data__kind="safeguarding")
    for hidden in _AUDIT_HIDDEN.values():
        safeguarding |= hidden(member)
    return safeguarding


def member_export(*, member: Member) -> dict[str, Any]:
    """Everything held about `member`: their record and roles, the audit rows about them
    (what was done, by whom, for them; none about a safeguarding concern), then each app's
    section. Fixed queries: three here, and a fixed number per registered part."""
    roles = sorted(Role.objects.filter(member=member).values_list("role", flat=True))
    trusted = TrustedPerson.objects.filter(member=member).select_related("user").order_by("id")
    audit = (
        AuditEvent.objects.filter(circle_id=member.circle_id, member=member)
        .exclude(safeguarding_audit_rows(member))
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
    body: dict[str, Any] = {
        "generated_at": timezone.now(),
        "circle": {"slug": member.circle.slug, "name": member.circle.name},
        "member": {
            "id": member.pk,
            "full_name": member.full_name,
            "first_name": first_name_of(member.full_name),
            "email": member.email,
            "phone": member.phone,
            "date_of_birth": member.date_of_birth,
            "address_line1": member.address_line1,
            "postcode": member.postcode,
            "membership_status": member.membership_status,
            "membership_status_words": str(member.get_membership_status_display()),
            "joined_via": member.joined_via,
            "joined_via_words": str(member.get_joined_via_display()),
            "joined_at": member.created_at,
            "has_login": member.user_id is not None,
            "roles": roles,
            # Whom they named to act for them (ended ones too: what those did is in the
            # audit below, by name).
            "trusted_persons": [
                {
                    "full_name": link.full_name,
                    "email": link.user.email,
                    "scopes": link.scopes,
                    "consent_reference": link.consent_reference,
                    "named_at": link.created_at,
                    "ended_at": link.ended_at,
                }
                for link in trusted
            ],
        },
        "audit": [
            {
                "created_at": event.created_at,
                "action": event.action,
                "by": person_name(event.actor),
                "reason": event.reason,
                "call_reference": event.call_reference,
                "details": event.data,
            }
            for event in audit
        ],
    }
    for name, part in _PARTS.items():
        body[name] = part(member)
    return body
