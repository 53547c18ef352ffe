"""Reconciliation: paid sessions and invoices that no webhook delivered are applied, once."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from members.models import MembershipStatus
from payments.models import MembershipPeriod, Payment
from payments.stripe_local import LocalStripe
from payments.tasks import payments_reconcile
from tests.conftest import Personas
from tests.payments.conftest import books, deliver_all, start_checkout, wallet_minutes

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def reconcile() -> str:
    out = StringIO()
    call_command("payments_reconcile", stdout=out)
    return out.getvalue()


def test_a_missed_token_payment_is_applied_once(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=2)
    stripe_server.complete(sid)  # paid on Stripe; the webhook never arrives
    start_checkout(client_for(personas.bob), personas.bob, tokens=1)  # opened, never paid

    assert "applied 1 missed" in reconcile()
    after_first = books(personas.southwark)
    assert "applied 0 missed" in reconcile()

    assert books(personas.southwark) == after_first
    assert wallet_minutes(personas.alice) == 120
    assert wallet_minutes(personas.bob) == 0
    # The webhook turning up late changes nothing either.
    deliver_all(stripe_server, stripe_server.events)
    assert books(personas.southwark) == after_first


def test_a_missed_membership_and_its_renewal_are_applied_once(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    stripe_server.complete(start_checkout(client_for(personas.alice), personas.alice))
    sub = stripe_server.of_kind("subscription")[0]["id"]
    stripe_server.renew(sub)

    reconcile()
    reconcile()

    assert Payment.objects.filter(member=personas.alice).count() == 2
    assert MembershipPeriod.objects.filter(member=personas.alice).count() == 2
    personas.alice.refresh_from_db()
    assert personas.alice.membership_status == MembershipStatus.ACTIVE


def test_the_periodic_task_reconciles_and_does_nothing_without_stripe(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, settings: Any
) -> None:
    stripe_server.complete(start_checkout(client_for(personas.alice), personas.alice, tokens=1))

    assert payments_reconcile.delay().get()["applied"] == 1
    settings.STRIPE_SECRET_KEY = ""
    assert payments_reconcile.delay().get() == {}
    with pytest.raises(CommandError):
        reconcile()
