"""Payments' part of a member's data export (members/export.py): every payment (offline and
by card: what for, how much, when, the reference), its refunds, and the membership periods
it paid for. Stripe's identifiers are left out: they are the processor's keys, not facts
about the member."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from members.export import money
from members.models import Member
from payments.models import MembershipPeriod, Payment, Refund


def member_export_part(member: Member) -> dict[str, Any]:
    """Three queries."""
    payments = (
        Payment.objects.filter(member=member)
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("created_at")))
        .order_by("-created_at", "-id")
    )
    periods = MembershipPeriod.objects.filter(member=member).order_by("-start", "-id")
    return {
        "payments": [
            {
                "id": p.pk,
                "created_at": p.created_at,
                "purpose": p.purpose,
                "purpose_words": str(p.get_purpose_display()),
                "method": p.method,
                "method_words": str(p.get_method_display()),
                "amount": money(p.amount),
                "tokens": p.tokens,
                "reference": p.reference,
                "refunds": [
                    {
                        "created_at": r.created_at,
                        "amount": money(r.amount),
                        "tokens": r.tokens,
                        "status": r.status,
                        "status_words": str(r.get_status_display()),
                        "reason": r.reason,
                    }
                    for r in p.refunds.all()
                ],
            }
            for p in payments
        ],
        "membership_periods": [
            {"start": m.start, "end": m.end, "amount": money(m.amount)} for m in periods
        ],
    }
