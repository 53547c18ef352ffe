from __future__ import annotations

from django.db.models import QuerySet

from members.models import Member
from payments.models import Payment


def member_payments(*, member: Member) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(member=member)
        .select_related("period")
        .order_by("-created_at", "-id")
    )
