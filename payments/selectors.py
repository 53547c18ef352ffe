"""Reads for money in, and the scoped lookups the payment views use."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Max, QuerySet, Sum

from circle.errors import Forbidden, NotFound
from members.models import Member, RoleName
from members.selectors import Caller, caller_for
from payments.models import CheckoutSession, CheckoutStatus, MembershipPeriod, Payment

# Subscription statuses in which Stripe will still take the next year's fee.
LIVE_SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "incomplete")


def member_renews_by_card(*, member: Member) -> bool:
    """Whether a card subscription will renew the member's membership: a second Checkout would
    charge them twice."""
    return member.subscriptions.filter(status__in=LIVE_SUBSCRIPTION_STATUSES).exists()


def one_year_from(start: date) -> date:
    """The last day of a year of membership starting on `start` (29 February: 28 February)."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:
        anniversary = start.replace(year=start.year + 1, day=28) + timedelta(days=1)
    return anniversary - timedelta(days=1)


def membership_year_next(*, member: Member, today: date) -> tuple[date, date]:
    """The year a membership payment made today would buy (`membership_period_add`'s rule):
    from today or, for a member paying ahead, from the day after their last paid year, so a
    page can say "until ..." before anything is recorded."""
    last = MembershipPeriod.objects.filter(member=member).aggregate(end=Max("end"))["end"]
    start = max(today, last + timedelta(days=1)) if last else today
    return start, one_year_from(start)


def offline_payment_same(
    *, member: Member, caller: Caller, purpose: str, method: str, reference: str, tokens: int | None
) -> Payment | None:
    """The payment already recorded under this reference by the same person for the same
    member and the same thing: a form sent twice (a double press, a reload) finds its first
    payment here, where any other use of the reference is a `duplicate_reference`."""
    return (
        Payment.objects.filter(
            circle_id=member.circle_id,
            member=member,
            method=method,
            reference=reference.strip(),
            purpose=purpose,
            tokens=tokens,
            recorded_by=caller.user,
        )
        .select_related("period")
        .first()
    )


def link_checkout_paid_since(
    *, member: Member, purpose: str, tokens: int | None, since: Any
) -> CheckoutSession | None:
    """A Checkout opened from a card payment link (no signed-in person started it) for the
    same thing since the link was made, and paid: the link has done its work."""
    return (
        CheckoutSession.objects.filter(
            member=member,
            purpose=purpose,
            tokens=tokens,
            created_by__isnull=True,
            created_at__gte=since,
            status=CheckoutStatus.COMPLETED,
        )
        .order_by("-created_at")
        .first()
    )


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
