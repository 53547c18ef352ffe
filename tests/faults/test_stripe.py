"""Stripe unreachable, against the real gunicorn: a checkout answers 503 `payments_unavailable`
and opens nothing, and a webhook whose event needs Stripe (a membership is applied from its
invoice, fetched from Stripe) answers 503, so the sender keeps it and delivers it again later
(`LocalStripe.redeliver`, as Stripe retries), which applies it once.

The same two behaviours are tested in-process in tests/payments/test_checkout.py
(`test_checkout_when_stripe_cannot_be_reached_is_a_503_and_charges_nothing`) and
tests/payments/test_webhook.py
(`test_when_stripe_cannot_be_asked_the_event_is_a_503_and_applied_on_redelivery`)."""

from __future__ import annotations

import pytest

from members.models import MembershipStatus
from payments.models import CheckoutSession, CheckoutStatus, MembershipPeriod, Payment
from tests.conftest import Personas
from tests.faults.conftest import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_with_stripe_unreachable_checkout_is_a_503_and_webhooks_apply_once_redelivered(
    faults: Stack, world: Personas
) -> None:
    alice, sam = world.alice, world.sam
    tokens_checkout = f"/api/v1/members/{alice.pk}/tokens/checkout/"
    payments_before = Payment.objects.count()
    faults.stripe_down()

    refused = faults.request("POST", tokens_checkout, {"tokens": 2}, who=alice)

    assert refused.status == 503, refused.body
    assert refused.code == "payments_unavailable"
    assert CheckoutSession.objects.get(member=alice).status == CheckoutStatus.CREATED

    faults.stripe_up()
    opened = faults.request("POST", f"/api/v1/members/{sam.pk}/membership/checkout/", who=sam)
    assert opened.status == 201, opened.body
    session_id = opened.body["checkout_url"].rsplit("/", 1)[-1]

    # Sam pays on Stripe's page; the session's webhook reaches us while we cannot reach
    # Stripe to fetch its invoice.
    faults.stripe_down()
    events = faults.stripe.complete(session_id)
    (completed,) = [e for e in events if e["type"] == "checkout.session.completed"]

    assert faults.stripe.deliver([completed]) == 0
    assert faults.stripe.undelivered == [completed]  # answered 503: kept by the sender
    assert MembershipPeriod.objects.filter(member=sam).count() == 0

    faults.stripe_up()
    assert faults.stripe.redeliver() == 1
    assert faults.stripe.undelivered == []
    assert MembershipPeriod.objects.filter(member=sam).count() == 1
    # Every event delivered once more, as Stripe may: nothing is applied twice.
    assert faults.stripe.deliver(events) == len(events)

    assert MembershipPeriod.objects.filter(member=sam).count() == 1
    assert Payment.objects.count() == payments_before + 1
    sam.refresh_from_db()
    assert sam.membership_status == MembershipStatus.ACTIVE
