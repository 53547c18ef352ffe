"""Paying on the pages, /my/pay/: the membership by card (Stripe Checkout, here the local stand-in
for Stripe) or in cash through the circle, and buying tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from members.models import AuditEvent, Member
from members.selectors import caller_for
from payments.models import CheckoutSession, MembershipPeriod, StripeSubscription
from payments.services.offline import offline_payment_record
from payments.stripe_local import LocalStripe
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.payments.conftest import deliver_all
from tests.payments.conftest import stripe_server as stripe_server  # the local Stripe fixture
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

PAY = "/my/pay/"
MEMBERSHIP = "/my/pay/membership/"
TOKENS = "/my/pay/tokens/"
CIRCLE_PHONE = "+442079460000"


@pytest.fixture
def alice(client: Client, personas: Personas) -> Member:
    """Alice, signed in, in a circle with a phone number."""
    personas.southwark.phone = CIRCLE_PHONE
    personas.southwark.save(update_fields=["phone"])
    client.force_login(personas.alice.user)
    return personas.alice


def pay_in_cash(member: Member, staff: Member, reference: str = "R1") -> None:
    offline_payment_record(
        member=member,
        caller=caller_for(user=staff.user, circle=member.circle),
        purpose="membership",
        method="cash",
        reference=reference,
    )


# --- Who may see it -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PAY, TOKENS, f"{TOKENS}?tokens=5"])
def test_pay_pages_send_the_signed_out_to_sign_in(client: Client, db: None, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/sign-in/?next=")


@pytest.mark.parametrize("url", [PAY, MEMBERSHIP, TOKENS])
def test_a_helper_who_is_not_a_member_has_nothing_to_pay(
    client: Client, personas: Personas, url: str
) -> None:
    client.force_login(personas.hana.user)

    response = client.post(url) if url == MEMBERSHIP else client.get(url)

    assert response.status_code == 403
    assert CheckoutSession.objects.count() == 0


# --- The membership -------------------------------------------------------------------------------


def test_an_unpaid_member_sees_the_fee_by_card_and_how_to_pay_in_cash(
    client: Client, alice: Member
) -> None:
    response = client.get(PAY)

    assert response.status_code == 200
    words = text_of(response)
    assert "Your membership is not paid yet. Once it is, you can ask for help." in words
    assert "Membership costs £10.00 a year." in words
    assert "Pay £10.00 by card" in words
    assert "Your card is then charged again each year, until you ask us to stop it." in words
    assert "Pay in cash or by cheque" in words
    assert "Call Southwark Circle and we will arrange it." in words
    html = response.content.decode()
    assert f'action="{MEMBERSHIP}"' in html
    assert 'href="tel:+442079460000">020 7946 0000</a>' in html


def test_a_member_paid_for_the_year_has_nothing_to_pay(
    client: Client, alice: Member, personas: Personas
) -> None:
    pay_in_cash(alice, personas.otto)
    until = MembershipPeriod.objects.get(member=alice).end

    words = text_of(client.get(PAY))

    assert f"Your membership is paid until {until:%A} {until.day} {until:%B} {until.year}." in words
    assert "Pay £10.00 by card" not in words
    assert "There is nothing to pay now." in words


def test_a_member_whose_year_ends_within_a_month_may_renew(
    client: Client, alice: Member, personas: Personas
) -> None:
    pay_in_cash(alice, personas.otto)
    MembershipPeriod.objects.filter(member=alice).update(
        end=timezone.localdate() + timedelta(days=20)
    )

    words = text_of(client.get(PAY))

    assert "Your membership is paid until" in words
    assert "Pay £10.00 by card" in words


def test_paying_by_card_sends_the_member_to_stripe(
    client: Client, alice: Member, stripe_server: LocalStripe
) -> None:
    response = client.post(MEMBERSHIP)

    assert response.status_code == 303
    checkout = CheckoutSession.objects.get()
    assert checkout.member == alice
    assert checkout.purpose == "membership"
    assert response["Location"] == checkout.url
    assert checkout.url.startswith(f"{stripe_server.base_url}/pay/cs_")
    assert AuditEvent.objects.filter(action="payment.checkout_started", member=alice).count() == 1


def test_the_membership_address_answers_a_get_with_the_pay_page(
    client: Client, alice: Member
) -> None:
    response = client.get(MEMBERSHIP)

    assert response.status_code == 302
    assert response.url == PAY
    assert CheckoutSession.objects.count() == 0


def test_back_from_stripe_the_page_never_says_paid_until_the_webhook_has_been_applied(
    client: Client, alice: Member, stripe_server: LocalStripe
) -> None:
    client.post(MEMBERSHIP)
    session_id = CheckoutSession.objects.get().stripe_session_id
    assert session_id is not None
    events = stripe_server.complete(session_id)

    back = text_of(client.get(f"{PAY}?checkout=paid&member={alice.pk}"))
    assert "Thank you. Your payment is being confirmed; this can take a minute." in back
    assert "Your membership is not paid yet." in back

    deliver_all(stripe_server, events)
    after = text_of(client.get(PAY))
    assert "Your membership is paid until" in after
    assert "It renews by card each year, so there is nothing to pay now." in after
    assert "Pay £10.00 by card" not in after


def test_back_from_stripe_without_paying_says_nothing_was_taken(
    client: Client, alice: Member
) -> None:
    words = text_of(client.get(f"{PAY}?checkout=cancelled&member={alice.pk}"))

    assert "You did not finish paying, so nothing was taken from your card." in words
    assert "Thank you" not in words


def test_a_member_already_renewing_by_card_is_told_plainly_and_nothing_is_started(
    client: Client, alice: Member, stripe_server: LocalStripe
) -> None:
    StripeSubscription.objects.create(
        circle=alice.circle, member=alice, stripe_subscription_id="sub_1", status="active"
    )

    response = client.post(MEMBERSHIP)

    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert "Your membership already renews by card each year." in words
    assert CheckoutSession.objects.count() == 0


def test_card_payments_switched_off_are_explained_and_nothing_is_written(
    client: Client, alice: Member, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    before = AuditEvent.objects.count()

    response = client.post(MEMBERSHIP)

    assert response.status_code == 200
    assert "Paying by card is not working just now." in text_of(response)
    assert "<title>Error: Pay" in response.content.decode()
    assert CheckoutSession.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_stripe_refusing_to_start_a_payment_is_explained_and_nothing_is_taken(
    client: Client, alice: Member, stripe_server: LocalStripe
) -> None:
    # Stripe answers, but refuses (as it does a revoked key or a malformed request).
    stripe_server.fail_next(400)

    response = client.post(MEMBERSHIP)

    assert response.status_code == 200
    assert "Paying by card did not start, and nothing was taken." in text_of(response)
    assert "<title>Error: Pay" in response.content.decode()
    assert not CheckoutSession.objects.exclude(status="created").exists()
    assert stripe_server.of_kind("checkout.session") == []


def test_each_member_pays_for_their_own_circle(
    client: Client, personas: Personas, stripe_server: LocalStripe
) -> None:
    client.force_login(personas.sam.user)

    words = text_of(client.get(PAY))
    response = client.post(MEMBERSHIP)

    assert "Suffolk Circle" in words
    assert "Southwark" not in words
    assert response.status_code == 303
    checkout = CheckoutSession.objects.get()
    assert checkout.member == personas.sam
    assert checkout.circle == personas.suffolk


# --- Tokens ---------------------------------------------------------------------------------------


def test_buying_tokens_asks_how_many_then_shows_what_they_buy(
    client: Client, alice: Member
) -> None:
    question = client.get(TOKENS)
    assert question.status_code == 200
    words = text_of(question)
    assert "How many tokens do you want to buy?" in words
    assert "Each token costs £10.00 and buys 1 hour of help. You can buy up to 100" in words

    answered = client.post(TOKENS, {"tokens": "5"})
    assert answered.status_code == 302
    assert answered.url == f"{TOKENS}?tokens=5"

    check = client.get(answered.url)
    assert check.status_code == 200
    words = text_of(check)
    assert "5 tokens: 5 hours of help, £50.00" in words
    assert "Continue to payment" in words
    assert f'href="{TOKENS}?again=5"' in check.content.decode()
    assert CheckoutSession.objects.count() == 0


def test_one_token_reads_as_one(client: Client, alice: Member) -> None:
    assert "1 token: 1 hour of help, £10.00" in text_of(client.get(f"{TOKENS}?tokens=1"))


def test_changing_the_number_shows_the_one_chosen(client: Client, alice: Member) -> None:
    assert 'value="7"' in client.get(f"{TOKENS}?again=7").content.decode()


def test_continue_to_payment_sends_the_member_to_stripe_for_those_tokens(
    client: Client, alice: Member, stripe_server: LocalStripe
) -> None:
    response = client.post(TOKENS, {"tokens": "5", "confirm": "1"})

    assert response.status_code == 303
    checkout = CheckoutSession.objects.get()
    assert response["Location"] == checkout.url
    assert checkout.member == alice
    assert checkout.purpose == "tokens"
    assert checkout.tokens == 5
    assert str(checkout.amount.amount) == "50.00"


@pytest.mark.parametrize(
    ("tokens", "said"),
    [
        ("", "Enter how many tokens you want to buy, like 5."),
        ("0", "You can buy from 1 to 100 tokens at a time."),
        ("101", "You can buy from 1 to 100 tokens at a time."),
        ("2.5", "Enter a whole number of tokens, like 5."),
        ("five", "Enter a whole number of tokens, like 5."),
        ("-3", "Enter a whole number of tokens, like 5."),
    ],
)
def test_a_number_of_tokens_that_cannot_be_bought_is_explained(
    client: Client, alice: Member, tokens: str, said: str
) -> None:
    for response in (
        client.post(TOKENS, {"tokens": tokens}),
        client.post(TOKENS, {"tokens": tokens, "confirm": "1"}),
        client.get(TOKENS, {"tokens": tokens}),
    ):
        assert response.status_code == 200
        words = text_of(response)
        assert "There is a problem" in words
        assert said in words
    assert CheckoutSession.objects.count() == 0


def test_a_refusal_from_the_payment_service_shows_on_the_tokens_page(
    client: Client, alice: Member, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""

    response = client.post(TOKENS, {"tokens": "5", "confirm": "1"})

    assert response.status_code == 200
    assert "Paying by card is not working just now." in text_of(response)
    assert CheckoutSession.objects.count() == 0


# --- Queries --------------------------------------------------------------------------------------


def test_pay_pages_ask_a_fixed_number_of_queries_whatever_the_history(
    client: Client, alice: Member, personas: Personas, django_assert_max_num_queries: Any
) -> None:
    def counted() -> list[int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts = []
        for url in (PAY, TOKENS, f"{TOKENS}?tokens=5"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        return counts

    few = counted()
    for n in range(3):
        pay_in_cash(alice, personas.otto, reference=f"R{n}")
    for _ in range(20):
        MemberFactory(circle=personas.southwark)

    assert counted() == few
    with django_assert_max_num_queries(10):
        client.get(PAY)
