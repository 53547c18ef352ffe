"""`POST /api/v1/payments/stripe/webhook/`: signed events from Stripe, each stored once, applied
exactly once per payment whatever the duplicates and the order."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import AuditEvent, MembershipStatus
from payments.models import (
    CheckoutSession,
    CheckoutStatus,
    MembershipPeriod,
    Payment,
    StripeEvent,
    StripeSubscription,
)
from payments.services import one_year_from
from payments.stripe_local import LocalStripe, sign
from tests.conftest import Personas
from tests.payments.conftest import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    books,
    card_counts,
    deliver,
    deliver_all,
    list_url,
    offline_url,
    start_checkout,
    wallet_minutes,
)

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def post_raw(payload: str, signature: str | None) -> Any:
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return APIClient().post(WEBHOOK_URL, data=payload, content_type="application/json", **extra)


# --- Signatures -------------------------------------------------------------------------------


def test_tokens_paid_by_card_are_credited_through_the_webhook(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=3)
    (event,) = stripe_server.complete(sid)

    response = deliver(stripe_server, event)

    assert response.status_code == 200, response.content
    assert wallet_minutes(personas.alice) == 180
    payment = Payment.objects.get()
    assert (payment.method, payment.purpose, payment.tokens) == ("card", "tokens", 3)
    assert payment.reference == sid
    assert str(payment.amount.amount) == "30.00"
    assert payment.stripe_payment_intent_id.startswith("pi_")
    assert CheckoutSession.objects.get().status == CheckoutStatus.COMPLETED
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.type) == (event["id"], "checkout.session.completed")
    assert stored.outcome.startswith("applied")
    recorded = AuditEvent.objects.get(action="payment.recorded")
    assert recorded.member == personas.alice
    assert recorded.actor is None  # Stripe's doing, not a person's


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=deadbeef",
        "garbage",
        sign("{}", WEBHOOK_SECRET),  # signed, but for another body
        sign("__BODY__", "whsec_someone_else"),
    ],
    ids=["missing", "empty", "wrong", "garbage", "other-body", "other-secret"],
)
def test_a_bad_signature_is_a_400_and_changes_nothing(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, signature: str | None
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)
    payload = json.dumps(event)
    if signature and "__BODY__" in signature:
        signature = sign(payload, "whsec_someone_else")
    before = card_counts()

    response = post_raw(payload, signature)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert card_counts() == before
    assert wallet_minutes(personas.alice) == 0


def test_a_stale_signature_is_refused_as_a_replay(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)
    before = card_counts()

    response = deliver(stripe_server, event, timestamp=int(time.time()) - 3600)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert card_counts() == before


def test_a_body_changed_after_signing_is_refused(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)
    payload, header = stripe_server.signed(event)

    response = post_raw(payload.replace('"amount_total": 1000', '"amount_total": 1'), header)

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_a_signed_body_that_is_not_json_is_a_400(stripe_server: LocalStripe, db: None) -> None:
    response = post_raw("not json", sign("not json", WEBHOOK_SECRET))
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert StripeEvent.objects.count() == 0


def test_a_signature_made_beyond_the_tolerance_in_the_future_is_refused(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, settings: Any
) -> None:
    # The library checks only the past; a body signed for later could be replayed until then.
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)
    before = card_counts()
    later = int(time.time()) + settings.STRIPE_WEBHOOK_TOLERANCE + 60

    response = deliver(stripe_server, event, timestamp=later)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert card_counts() == before
    assert wallet_minutes(personas.alice) == 0


def test_a_signature_a_little_ahead_of_our_clock_is_accepted(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    # Stripe's clock and ours may differ by a few seconds either way.
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)

    response = deliver(stripe_server, event, timestamp=int(time.time()) + 30)

    assert response.status_code == 200
    assert wallet_minutes(personas.alice) == 60


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"checkout.session.completed"', "42", "null"])
def test_a_signed_body_that_is_not_an_object_is_a_400(
    stripe_server: LocalStripe, db: None, body: str
) -> None:
    response = post_raw(body, sign(body, WEBHOOK_SECRET))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    assert StripeEvent.objects.count() == 0


@pytest.mark.parametrize("depth", [33, 1000, 50_000])
def test_a_signed_body_nested_too_deep_is_a_400(
    stripe_server: LocalStripe, db: None, depth: int
) -> None:
    body = "[" * depth + "]" * depth

    response = post_raw(body, sign(body, WEBHOOK_SECRET))

    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
    assert StripeEvent.objects.count() == 0


def test_an_unsigned_body_nested_too_deep_is_refused_for_its_signature(
    stripe_server: LocalStripe, db: None
) -> None:
    # Nothing unsigned is parsed at all.
    response = post_raw("[" * 1000 + "]" * 1000, "t=1,v1=00")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def test_without_a_webhook_secret_every_event_is_refused(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, settings: Any
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(stripe_server, event).status_code == 400
    assert StripeEvent.objects.count() == 0


# --- Once, whatever arrives -------------------------------------------------------------------


def test_five_deliveries_of_one_event_credit_once(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=2)
    (event,) = stripe_server.complete(sid)

    for _ in range(5):
        assert deliver(stripe_server, event).status_code == 200

    assert wallet_minutes(personas.alice) == 120
    assert Payment.objects.count() == 1
    stored = StripeEvent.objects.get()
    assert stored.deliveries == 5
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1
    assert AuditEvent.objects.filter(action="tokens.purchased").count() == 1


def test_two_events_about_one_session_credit_once(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    """Keyed on the session, not the event: a second event of another id (as Stripe may send
    for an async payment) about the same paid session buys nothing more."""
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=2)
    (completed,) = stripe_server.complete(sid)
    other = {**completed, "id": "evt_other", "type": "checkout.session.async_payment_succeeded"}

    deliver_all(stripe_server, [completed, other])

    assert wallet_minutes(personas.alice) == 120
    assert StripeEvent.objects.count() == 2


def test_a_delayed_payment_is_credited_when_it_arrives(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    deliver_all(stripe_server, stripe_server.complete(sid, paid=False))
    assert wallet_minutes(personas.alice) == 0
    assert StripeEvent.objects.get().outcome.startswith("waiting")

    deliver_all(stripe_server, stripe_server.async_succeed(sid))

    assert wallet_minutes(personas.alice) == 60
    assert Payment.objects.count() == 1


def test_a_session_we_never_created_is_acknowledged_and_ignored(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)
    stranger = json.loads(json.dumps(event))
    stranger["id"] = "evt_stranger"
    stranger["data"]["object"]["id"] = "cs_not_ours"
    stranger["data"]["object"]["metadata"] = {}

    response = deliver(stripe_server, stranger)

    assert response.status_code == 200  # Stripe must not keep retrying it
    assert Payment.objects.count() == 0
    assert StripeEvent.objects.get().outcome == "ignored: not a session of ours"


def test_metadata_naming_someone_elses_checkout_is_ignored(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    sid_bob = start_checkout(client_for(personas.bob), personas.bob, tokens=5)
    (event,) = stripe_server.complete(sid_bob)
    forged = json.loads(json.dumps(event))
    forged["id"] = "evt_forged"
    forged["data"]["object"]["id"] = "cs_forged"
    alice_checkout = CheckoutSession.objects.get(member=personas.alice)
    forged["data"]["object"]["metadata"]["circle_checkout_id"] = str(alice_checkout.pk)

    deliver(stripe_server, forged)

    assert Payment.objects.count() == 0
    assert wallet_minutes(personas.alice) == 0


def test_an_unknown_event_type_is_stored_and_acknowledged(
    stripe_server: LocalStripe, db: None
) -> None:
    event = {
        "id": "evt_unknown",
        "object": "event",
        "type": "customer.tax_id.created",
        "data": {"object": {"id": "txi_1", "object": "tax_id"}},
    }
    response = deliver(stripe_server, event)

    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.type == "customer.tax_id.created"
    assert stored.outcome == "ignored: event type not used"


def test_a_membership_paid_by_card_makes_the_member_active_for_a_year(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice)
    events = stripe_server.complete(sid)
    assert [e["type"] for e in events] == [
        "customer.subscription.created",
        "checkout.session.completed",
        "invoice.paid",
    ]

    deliver_all(stripe_server, events)

    personas.alice.refresh_from_db()
    assert personas.alice.membership_status == MembershipStatus.ACTIVE
    period = MembershipPeriod.objects.get()
    assert period.end == one_year_from(period.start)
    assert period.payment.method == "card"
    assert period.payment.reference == stripe_server.of_kind("invoice")[0]["id"]
    assert period.stripe_subscription_id == stripe_server.of_kind("subscription")[0]["id"]
    assert StripeSubscription.objects.get().member == personas.alice
    detail = client_for(personas.alice).get(f"/api/v1/members/{personas.alice.pk}/").json()
    assert detail["membership"] == {"status": "active", "paid_until": str(period.end)}


def test_every_delivery_order_of_a_membership_purchase_gives_the_same_books(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    """The three events of one paid year, in each of their six orders, each event delivered
    twice: one year, one payment. Each order is its own member and circle-wide the same."""
    histories = []
    members = [personas.alice, personas.bob, personas.hana]
    orders = list(itertools.permutations(range(3)))
    from tests.factories import MemberFactory

    members += [MemberFactory(circle=personas.southwark) for _ in range(len(orders) - 3)]
    for member, order in zip(members, orders, strict=True):
        sid = start_checkout(client_for(member), member)
        events = stripe_server.complete(sid)
        deliver_all(stripe_server, [events[i] for i in order] * 2)
        member.refresh_from_db()
        payments = Payment.objects.filter(member=member)
        histories.append(
            (
                member.membership_status,
                payments.count(),
                [str(p.amount.amount) for p in payments],
                MembershipPeriod.objects.filter(member=member).count(),
            )
        )
    assert histories == [("active", 1, ["10.00"], 1)] * len(orders)


def test_every_delivery_order_of_a_token_purchase_and_its_refund_gives_the_same_books(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    """Completion, then a dashboard refund of one token: in both orders (the refund first too),
    and again with duplicates, the books end the same."""
    results = []
    for order in [(0, 1), (1, 0), (1, 0, 1, 0), (0, 0, 1, 1)]:
        sid = start_checkout(client_for(personas.alice), personas.alice, tokens=3)
        (completed,) = stripe_server.complete(sid)
        intent = stripe_server.objects[sid]["payment_intent"]
        (refunded,) = stripe_server.dashboard_refund(intent, 1000)
        before = wallet_minutes(personas.alice)
        deliver_all(stripe_server, [(completed, refunded)[i] for i in order])
        payment = Payment.objects.get(reference=sid)
        results.append(
            (
                wallet_minutes(personas.alice) - before,
                payment.refunds.count(),
                payment.refunds.get().minutes,
            )
        )
    assert results == [(120, 1, 60)] * 4
    assert (
        books(personas.southwark)["payments"].count(
            (personas.alice.pk, "tokens", "card", "30.00", 3)
        )
        == 4
    )


def test_card_and_offline_payments_list_together_newest_first(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    otto = client_for(personas.otto)
    body = {"purpose": "tokens", "tokens": 1, "method": "cash", "reference": "CASH-9"}
    assert otto.post(offline_url(personas.alice.pk), body, format="json").status_code == 201
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=2)
    deliver_all(stripe_server, stripe_server.complete(sid))

    results = client_for(personas.alice).get(list_url(personas.alice.pk)).json()["results"]

    assert [(r["method"], r["tokens"]) for r in results] == [("card", 2), ("cash", 1)]
    assert results[0]["reference"] == sid
    assert results[0]["refunded_tokens"] == 0
    assert wallet_minutes(personas.alice) == 180


def test_when_stripe_cannot_be_asked_the_event_is_a_503_and_applied_on_redelivery(
    personas: Personas, client_for: Client, stripe_server: LocalStripe, settings: Any
) -> None:
    """A membership is applied from its invoice, fetched from Stripe. If Stripe cannot be
    reached, the webhook answers 503 so Stripe sends it again; the second delivery applies it."""
    sid = start_checkout(client_for(personas.alice), personas.alice)
    completed = stripe_server.complete(sid)[1]
    real_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    response = deliver(stripe_server, completed)

    assert response.status_code == 503
    assert response.json()["code"] == "payments_unavailable"
    stored = StripeEvent.objects.get()
    assert stored.processed_at is None
    assert Payment.objects.count() == 0

    settings.STRIPE_API_BASE = real_base
    assert deliver(stripe_server, completed).status_code == 200
    assert MembershipPeriod.objects.count() == 1
    stored.refresh_from_db()
    assert (stored.deliveries, stored.outcome) == (2, "applied: year recorded")


def test_a_webhook_that_beats_our_own_write_of_the_session_id_still_finds_the_checkout(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    # Stripe answered the create call and sent the webhook before our row had the id written.
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    CheckoutSession.objects.update(stripe_session_id=None)

    deliver_all(stripe_server, stripe_server.complete(sid))

    assert CheckoutSession.objects.get().stripe_session_id == sid
    assert wallet_minutes(personas.alice) == 60


def test_an_expired_session_is_marked_and_buys_nothing(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)

    deliver_all(stripe_server, stripe_server.expire(sid) * 2)

    assert CheckoutSession.objects.get().status == CheckoutStatus.EXPIRED
    assert Payment.objects.count() == 0
    assert AuditEvent.objects.filter(action="payment.checkout_expired").count() == 1


def test_years_paid_by_cash_and_by_card_follow_one_another(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    body = {"purpose": "membership", "method": "cash", "reference": "CASH-Y1"}
    assert (
        client_for(personas.otto)
        .post(offline_url(personas.alice.pk), body, format="json")
        .status_code
        == 201
    )
    deliver_all(
        stripe_server,
        stripe_server.complete(start_checkout(client_for(personas.alice), personas.alice)),
    )

    cash, card = MembershipPeriod.objects.filter(member=personas.alice).order_by("start")
    assert (cash.payment.method, card.payment.method) == ("cash", "card")
    assert card.start == cash.end + timedelta(days=1)
    assert card.end == one_year_from(card.start)
    results = client_for(personas.alice).get(list_url(personas.alice.pk)).json()["results"]
    assert [(r["method"], r["paid_until"]) for r in results] == [
        ("card", card.end.isoformat()),
        ("cash", cash.end.isoformat()),
    ]


def test_a_replayed_event_says_so_and_changes_nothing(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sid = start_checkout(client_for(personas.alice), personas.alice, tokens=1)
    (event,) = stripe_server.complete(sid)
    deliver(stripe_server, event)
    before = card_counts()

    response = deliver(stripe_server, event)

    assert response.json()["outcome"] == "replay: applied: tokens credited"
    assert card_counts() == before
