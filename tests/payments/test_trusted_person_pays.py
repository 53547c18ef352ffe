"""A trusted person with the "pay" scope renews the member's membership and buys them tokens
by card (issue 14, "Gifts from family"); without it they are refused and nothing is started."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import AuditEvent, Member, User
from members.selectors import caller_for
from members.trusted_persons import trusted_person_add
from payments.models import CheckoutSession
from payments.stripe_local import LocalStripe
from tests.conftest import Personas

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def name_dee(member: Member, *scopes: str) -> User:
    return trusted_person_add(
        caller=caller_for(user=member.user, circle=member.circle),
        member=member,
        full_name="Dee Archer",
        email="dee@example.net",
        scopes=scopes,
    ).user


def test_with_pay_she_renews_the_membership_and_buys_tokens(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    dee = client_for(name_dee(personas.alice, "pay"))
    base = f"/api/v1/members/{personas.alice.pk}"

    renew = dee.post(f"{base}/membership/checkout/", {}, "json")
    tokens = dee.post(f"{base}/tokens/checkout/", {"tokens": 2}, "json")

    assert renew.status_code == 201, renew.content
    assert tokens.status_code == 201, tokens.content
    assert set(CheckoutSession.objects.values_list("member_id", flat=True)) == {personas.alice.pk}
    started = AuditEvent.objects.filter(action="payment.checkout_started")
    assert started.count() == 2
    assert {(e.actor_id, e.actor_member_id, e.member_id) for e in started} == {
        (User.objects.get(email="dee@example.net").pk, None, personas.alice.pk)
    }


def test_without_pay_she_is_refused_and_nothing_is_started(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    dee = client_for(name_dee(personas.alice, "ask", "confirm", "statement"))
    base = f"/api/v1/members/{personas.alice.pk}"

    for response in (
        dee.post(f"{base}/membership/checkout/", {}, "json"),
        dee.post(f"{base}/tokens/checkout/", {"tokens": 2}, "json"),
        dee.post(f"{base}/payments/offline/", {}, "json"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] in ("scope_not_given", "trusted_person_not_allowed")
    assert not CheckoutSession.objects.exists()
    assert not stripe_server.requests
