"""Reads for money in, and the scoped lookups the payment views use."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Sum

from circle.errors import Forbidden, NotFound
from circle.models import Circle
from members.models import Member, RoleName
from members.selectors import Caller, caller_for
from payments.models import FollowUp, Payment, RefundStatus


def member_payments(*, member: Member) -> QuerySet[Payment]:
    """Every payment, by hand or by card, newest first."""
    return (
        Payment.objects.filter(member=member)
        .select_related("period")
        .annotate(refunded_tokens=Sum("refunds__tokens", default=0))
        .order_by("-created_at", "-id")
    )


def _in_callers_circles(user: Any) -> QuerySet[Member, Any]:
    return Member.objects.filter(user=user).values("circle_id")


def payment_access(*, user: Any, payment_id: int, roles: frozenset[str]) -> tuple[Payment, Caller]:
    """A payment of a circle where the caller holds one of `roles`; another circle's: 404."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound("No such payment.", code="payment_not_found")
    payment = (
        Payment.objects.select_related("circle", "member")
        .filter(pk=payment_id, circle_id__in=_in_callers_circles(user))
        .first()
    )
    if payment is None:
        raise NotFound("No such payment.", code="payment_not_found")
    caller = caller_for(user=user, circle=payment.circle)
    if not caller.roles & roles:
        raise Forbidden("forbidden", "Only the circle's coordinators can refund payments.")
    return payment, caller


def followup_access(*, user: Any, followup_id: int) -> tuple[FollowUp, Caller]:
    if not getattr(user, "is_authenticated", False):
        raise NotFound("No such follow-up.", code="followup_not_found")
    followup = (
        FollowUp.objects.select_related("circle", "member")
        .filter(pk=followup_id, circle_id__in=_in_callers_circles(user))
        .first()
    )
    if followup is None:
        raise NotFound("No such follow-up.", code="followup_not_found")
    caller = caller_for(user=user, circle=followup.circle)
    if not caller.is_staff:
        raise Forbidden("forbidden", "Only the circle's staff work through follow-ups.")
    return followup, caller


def followup_list(*, circle: Circle, done: bool = False) -> QuerySet[FollowUp]:
    """The operators' list: open ones oldest first (ring those waiting longest first)."""
    return (
        FollowUp.objects.filter(circle=circle, done_at__isnull=not done)
        .select_related("member")
        .order_by("created_at", "id")
    )


def refunded_minutes(*, payment: Payment) -> int:
    return int(
        payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(m=Sum("minutes"))["m"] or 0
    )


STAFF = frozenset({RoleName.OPERATOR, RoleName.COORDINATOR})
COORDINATORS = frozenset({RoleName.COORDINATOR})
