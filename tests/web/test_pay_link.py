"""`/pay/{token}/`, the card payment link an operator sends: whoever holds it sees whose it is
(first name only) and what for, and each "Pay by card" opens a fresh Checkout on the local
Stripe (payments/stripe_local.py); the webhook, not the return, applies the payment, once."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from members.models import AuditEvent, Member
from members.selectors import caller_for
from messaging.models import Sms
from payments.models import CheckoutSession, MembershipPeriod, Payment, StripeSubscription
from payments.services import offline_payment_record
from payments.services.links import PAY_LINK_SALT, pay_link_token
from payments.stripe_local import LocalStripe
from tests.conftest import Personas
from tests.payments.conftest import deliver_all, wallet_minutes
from tests.payments.conftest import stripe_server as stripe_server  # the local Stripe fixture
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

CIRCLE_PHONE = "+442079460000"


@pytest.fixture
def southwark(personas: Personas) -> Personas:
    personas.southwark.phone = CIRCLE_PHONE
    personas.southwark.save(update_fields=["phone"])
    return personas


def link(member: Member, *, tokens: int | None = None, days_ago: float = 0) -> str:
    token = pay_link_token(
        member=member,
        purpose="tokens" if tokens else "membership",
        tokens=tokens,
        issued_at=timezone.now() - timedelta(days=days_ago),
    )
    return f"/pay/{token}/"


def stripe_session(checkout: CheckoutSession) -> str:
    assert checkout.stripe_session_id is not None
    return checkout.stripe_session_id


# --- What the holder sees ---------------------------------------------------------------------


def test_a_membership_link_says_whose_it_is_and_what_it_costs(
    client: Client, southwark: Personas
) -> None:
    response = client.get(link(southwark.alice))

    assert response.status_code == 200
    words = text_of(response)
    assert "Pay for Alice's membership" in words
    assert "Southwark Circle sent this link for Alice to pay by card." in words
    assert "A year's membership of Southwark Circle" in words
    assert "£10.00 a year" in words
    assert "The card is charged again each year, until you ask us to stop it." in words
    assert "Pay by card" in words
    assert "This link works until" in words
    assert "Archer" not in words  # first name only
    assert "+447700900001" not in response.content.decode()
    assert CheckoutSession.objects.count() == 0


def test_a_tokens_link_says_how_many_and_the_price(client: Client, southwark: Personas) -> None:
    words = text_of(client.get(link(southwark.alice, tokens=3)))

    assert "Pay for Alice's tokens" in words
    assert "3 tokens (3 hours of help)" in words
    assert "£30.00 (£10.00 a token)" in words
    assert "You pay once; nothing is charged again." in words


def test_a_signed_in_person_sees_the_same_page(client: Client, southwark: Personas) -> None:
    client.force_login(southwark.bob.user)

    assert "Pay for Alice's membership" in text_of(client.get(link(southwark.alice)))


# --- Broken and old links ---------------------------------------------------------------------


def test_an_expired_link_says_so_with_the_circles_phone(
    client: Client, southwark: Personas
) -> None:
    response = client.get(link(southwark.alice, days_ago=7.01))

    assert response.status_code == 410
    words = text_of(response)
    assert "This link has expired" in words
    assert "Ask Southwark Circle to send a new one." in words
    assert 'href="tel:+442079460000"' in response.content.decode()
    assert "Pay by card" not in words


def test_back_from_stripe_just_after_the_link_expired_is_still_thanked(
    client: Client, southwark: Personas
) -> None:
    response = client.get(f"{link(southwark.alice, days_ago=8)}?checkout=paid")

    assert response.status_code == 200
    assert "Your payment is being confirmed" in text_of(response)


def test_an_expired_link_cannot_be_paid(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    response = client.post(link(southwark.alice, days_ago=8))

    assert response.status_code == 410
    assert CheckoutSession.objects.count() == 0


def test_the_age_of_a_link_is_a_setting(client: Client, southwark: Personas, settings: Any) -> None:
    settings.PAY_LINK_MAX_AGE_DAYS = 14

    assert client.get(link(southwark.alice, days_ago=10)).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
        lambda token: "x" + token,  # the payload
        lambda token: token.split(":")[0],  # no signature at all
        lambda token: "not-a-link",
    ],
)
def test_a_tampered_link_is_page_not_found(
    client: Client, southwark: Personas, stripe_server: LocalStripe, change: Any
) -> None:
    token = link(southwark.alice).split("/")[2]

    assert client.get(f"/pay/{change(token)}/").status_code == 404
    assert client.post(f"/pay/{change(token)}/").status_code == 404
    assert CheckoutSession.objects.count() == 0


def test_another_signed_value_of_the_site_is_not_a_link(
    client: Client, southwark: Personas
) -> None:
    payload = {"m": southwark.alice.pk, "c": southwark.southwark.pk, "p": "membership", "i": 0}
    other = signing.Signer(salt="something.else").sign_object(payload, compress=True)

    assert client.get(f"/pay/{other}/").status_code == 404


def test_a_link_naming_a_member_of_another_circle_is_page_not_found(
    client: Client, southwark: Personas
) -> None:
    payload = {
        "m": southwark.sam.pk,
        "c": southwark.southwark.pk,
        "p": "membership",
        "i": int(timezone.now().timestamp()),
    }
    forged_but_signed = signing.Signer(salt=PAY_LINK_SALT).sign_object(payload, compress=True)

    assert client.get(f"/pay/{forged_but_signed}/").status_code == 404


# --- Paying -------------------------------------------------------------------------------------


def test_pay_by_card_opens_a_checkout_that_comes_back_to_the_link(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    alice = southwark.alice
    url = link(alice)

    response = client.post(url)

    assert response.status_code == 303
    checkout = CheckoutSession.objects.get()
    assert response["Location"] == checkout.url
    assert checkout.url.startswith(f"{stripe_server.base_url}/pay/cs_")
    assert (checkout.member, checkout.purpose, checkout.created_by) == (alice, "membership", None)
    session = stripe_server.get(stripe_session(checkout), "checkout.session")
    assert session["success_url"] == f"http://127.0.0.1:8000{url}?checkout=paid"
    assert session["cancel_url"] == f"http://127.0.0.1:8000{url}?checkout=cancelled"
    started = AuditEvent.objects.get(action="payment.checkout_started")
    assert (started.member, started.actor, started.reason) == (alice, None, "by card payment link")


def test_each_visit_opens_a_fresh_checkout(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    url = link(southwark.alice, tokens=2)

    first = client.post(url)
    second = client.post(url)

    assert first.status_code == second.status_code == 303
    assert first["Location"] != second["Location"]
    assert CheckoutSession.objects.count() == 2
    assert len(stripe_server.of_kind("checkout.session")) == 2


def test_back_from_stripe_it_never_says_paid_before_the_webhook(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    url = link(southwark.alice, tokens=3)
    client.post(url)
    stripe_server.complete(stripe_session(CheckoutSession.objects.get()))

    words = text_of(client.get(f"{url}?checkout=paid"))

    assert "Thank you" in words
    assert "Your payment is being confirmed; this can take a minute." in words
    assert not re.search(r"\bpaid\b", words)
    assert Payment.objects.count() == 0


def test_back_without_paying_says_nothing_was_taken_and_offers_the_button(
    client: Client, southwark: Personas
) -> None:
    words = text_of(client.get(f"{link(southwark.alice)}?checkout=cancelled"))

    assert "You did not finish paying, so nothing was taken from your card." in words
    assert "Pay by card" in words


def test_the_webhook_credits_the_tokens_once_and_the_link_is_then_done(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    alice = southwark.alice
    url = link(alice, tokens=3)
    client.post(url)
    events = stripe_server.complete(stripe_session(CheckoutSession.objects.get()))

    deliver_all(stripe_server, events)
    deliver_all(stripe_server, events)  # Stripe may send each event again

    assert wallet_minutes(alice) == 180
    payment = Payment.objects.get()
    assert (payment.purpose, payment.method, payment.tokens) == ("tokens", "card", 3)
    again = client.get(url)
    assert "There is nothing to pay" in text_of(again)
    assert "These tokens for Alice were already paid for with this link" in text_of(again)
    assert client.post(url).status_code == 200
    assert CheckoutSession.objects.count() == 1


def test_a_membership_paid_through_the_link_is_not_charged_twice(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    alice = southwark.alice
    url = link(alice)
    client.post(url)
    paid = stripe_server.complete(stripe_session(CheckoutSession.objects.get()))
    deliver_all(stripe_server, paid)
    alice.refresh_from_db()
    assert alice.membership_status == "active"
    assert MembershipPeriod.objects.filter(member=alice).count() == 1

    response = client.post(url)

    assert response.status_code == 200
    words = text_of(response)
    assert "There is nothing to pay" in words
    assert "Alice's membership already renews by card each year" in words
    assert CheckoutSession.objects.count() == 1


def test_a_member_paid_up_in_cash_is_told_so(client: Client, southwark: Personas) -> None:
    alice = southwark.alice
    offline_payment_record(
        member=alice,
        caller=caller_for(user=southwark.otto.user, circle=alice.circle),
        purpose="membership",
        method="cash",
        reference="R1",
    )

    words = text_of(client.get(link(alice)))

    assert "Alice's membership is already paid until" in words
    assert "Pay by card" not in words


def test_a_card_subscription_made_meanwhile_is_said_plainly(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    alice = southwark.alice
    StripeSubscription.objects.create(
        circle=alice.circle, member=alice, stripe_subscription_id="sub_1", status="active"
    )

    response = client.post(link(alice))

    assert response.status_code == 200
    assert "already renews by card each year" in text_of(response)
    assert CheckoutSession.objects.count() == 0


def test_stripe_unreachable_is_a_plain_page(
    client: Client, southwark: Personas, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_circle_local"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    response = client.post(link(southwark.alice, tokens=1))

    assert response.status_code == 503
    words = text_of(response)
    assert "Paying by card is not working just now" in words
    assert "Nothing was taken from your card. This link still works: try it again later." in words
    assert 'href="tel:+442079460000"' in response.content.decode()


def test_card_payments_not_set_up_is_the_same_plain_page(
    client: Client, southwark: Personas, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""

    response = client.post(link(southwark.alice))

    assert response.status_code == 503
    assert "Paying by card is not working just now" in text_of(response)
    assert CheckoutSession.objects.count() == 0


# --- From the operator's link to the payment, end to end ----------------------------------------


def test_the_link_in_the_text_opens_a_checkout_whose_webhook_credits_once(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    alice = southwark.alice
    client.force_login(southwark.otto.user)
    client.post(
        f"/console/southwark/members/{alice.pk}/pay-link/",
        {"purpose": "tokens", "tokens": "2", "channel": "sms", "call_reference": "CALL-1"},
    )
    path = re.search(r"http://127\.0\.0\.1:8000(/pay/[^/ ]+/)", Sms.objects.get().body)
    assert path is not None
    holder = Client()

    assert "Pay for Alice's tokens" in text_of(holder.get(path[1]))
    holder.post(path[1])
    paid = stripe_server.complete(stripe_session(CheckoutSession.objects.get()))
    deliver_all(stripe_server, paid)

    assert wallet_minutes(alice) == 120


def test_the_link_in_the_email_opens_the_page(client: Client, southwark: Personas) -> None:
    client.force_login(southwark.cora.user)
    client.post(
        f"/console/southwark/members/{southwark.bob.pk}/pay-link/",
        {"purpose": "membership", "channel": "email", "call_reference": "CALL-2"},
    )
    (message,) = mail.outbox
    path = re.search(r"http://127\.0\.0\.1:8000(/pay/\S+/)", message.body)
    assert path is not None

    assert "Pay for Bob's membership" in text_of(Client().get(path[1]))


def test_the_page_reads_a_handful_of_rows(
    client: Client, southwark: Personas, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(4):
        response = client.get(link(southwark.alice))

    assert response.status_code == 200
