"""Two deliveries of one payment at once, on PostgreSQL with real threads: credited once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from members.models import AuditEvent
from payments.models import MembershipPeriod, Payment, StripeEvent
from payments.stripe_local import LocalStripe
from tests.conftest import Personas
from tests.payments.conftest import deliver, start_checkout, wallet_minutes
from tests.payments.test_offline_payments import run_together

Client = Callable[[Any], APIClient]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_one_event_delivered_twice_at_once_credits_once(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=4)
    (event,) = stripe_server.complete(sid)

    responses = run_together([lambda: deliver(stripe_server, event)] * 2)

    assert [getattr(r, "status_code", r) for r in responses] == [200, 200]
    assert wallet_minutes(personas.alice) == 240
    assert Payment.objects.count() == 1
    assert StripeEvent.objects.get().deliveries == 2
    assert AuditEvent.objects.filter(action="tokens.purchased").count() == 1


def test_two_events_of_one_paid_year_at_once_record_one_year(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice)
    _, completed, paid = stripe_server.complete(sid)

    responses = run_together(
        [lambda: deliver(stripe_server, completed), lambda: deliver(stripe_server, paid)] * 2
    )

    assert [getattr(r, "status_code", r) for r in responses] == [200] * 4
    assert Payment.objects.count() == 1
    assert MembershipPeriod.objects.count() == 1
    assert AuditEvent.objects.filter(action="membership.status_changed").count() == 1


def test_two_refunds_at_once_cannot_take_more_than_is_unspent(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=3)
    (event,) = stripe_server.complete(sid)
    assert deliver(stripe_server, event).status_code == 200
    payment = Payment.objects.get()
    url = f"/api/v1/payments/{payment.pk}/refund/"

    def ask() -> Any:
        return client_for(personas.cora).post(url, {"tokens": 2, "reason": "moved"}, "json")

    responses = run_together([ask, ask])

    assert sorted(getattr(r, "status_code", r) for r in responses) == [201, 409]
    assert wallet_minutes(personas.alice) == 60
    assert len(stripe_server.of_kind("refund")) == 1
