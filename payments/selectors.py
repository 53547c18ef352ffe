"""Reads for money in, and the scoped lookups the payment views use."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Sum

from circle.errors import Forbidden, NotFound
from members.models import Member, RoleName
from members.selectors import Caller, caller_for
from payments.models import Payment

# Subscription statuses in which Stripe will still take the next year's fee.
LIVE_SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "incomplete")


def member_renews_by_card(*, member: Member) -> bool:
    """Whether a card subscription will renew the member's membership: a second Checkout would
    charge them twice."""
    return member.subscriptions.filter(status__in=LIVE_SUBSCRIPTION_STATUSES).exists()


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


def _scoped(queryset: QuerySet[Any], *, user: Any, pk: int, what: str) -> Any:
    """The object with this id in a circle where the caller is a member; otherwise 404, so
    nobody learns what another circle holds."""
    found = None
    if getattr(user, "is_authenticated", False):
        found = queryset.filter(pk=pk, circle_id__in=_in_callers_circles(user)).first()
    if found is None:
        raise NotFound(f"No such {what.replace('_', '-')}.", code=f"{what}_not_found")
    return found


def payment_access(*, user: Any, payment_id: int, roles: frozenset[str]) -> tuple[Payment, Caller]:
    """A payment of a circle where the caller holds one of `roles`."""
    payment: Payment = _scoped(
        Payment.objects.select_related("circle", "member"), user=user, pk=payment_id, what="payment"
    )
    caller = caller_for(user=user, circle=payment.circle)
    if not caller.roles & roles:
        raise Forbidden("forbidden", "Only the circle's coordinators can refund payments.")
    return payment, caller


COORDINATORS = frozenset({RoleName.COORDINATOR})
