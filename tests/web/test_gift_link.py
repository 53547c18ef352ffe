"""Gifts from family and friends: `/gift/{token}/`, where whoever holds a member's gift link
buys them tokens by card on the local Stripe (payments/stripe_local.py) without an account, and
`/my/pay/gift-link/`, where the member makes their link. The webhook, not the return, credits
the tokens, once, and the member's statement names the giver."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from members.models import AuditEvent, Member
from payments.models import CheckoutSession
from payments.services.gifts import GIFT_LINK_SALT, gift_link_read, gift_link_token
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


def link(member: Member, *, days_ago: float = 0) -> str:
    token = gift_link_token(member=member, issued_at=timezone.now() - timedelta(days=days_ago))
    return f"/gift/{token}/"


GOOD = {"giver_name": "Dora Archer", "giver_email": "dora@example.com", "tokens": "2"}


# --- What the giver sees ------------------------------------------------------------------------


def test_the_page_names_the_member_by_first_name_and_the_price(
    client: Client, southwark: Personas, django_assert_num_queries: Any
) -> None:
    url = link(southwark.alice)
    with django_assert_num_queries(2):  # the circle, the member
        response = client.get(url)

    assert response.status_code == 200
    words = text_of(response)
    assert "Buy time for Alice at Southwark Circle" in words
    assert "Each token costs £10.00 and buys 1 hour of help." in words
    assert "You can give up to 20 tokens at a time." in words
    assert "Your name" in words
    assert "Your email address (optional)" in words
    assert "This link works until" in words
    assert "Archer" not in words  # first name only
    assert "+447700900001" not in response.content.decode()
    assert CheckoutSession.objects.count() == 0


def test_the_page_costs_the_same_queries_however_many_gifts_came_before(
    client: Client, southwark: Personas, stripe_server: LocalStripe, django_assert_num_queries: Any
) -> None:
    url = link(southwark.alice)
    for _ in range(3):
        client.post(url, GOOD)
    with django_assert_num_queries(2):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"giver_name": ""}, "Enter your name."),
        ({"giver_name": "x" * 101}, "Your name can be 100 characters at most."),
        ({"giver_email": "not-an-address"}, "Enter an email address like name@example.com."),
        ({"tokens": ""}, "Enter how many tokens you want to give, like 2."),
        ({"tokens": "two"}, "Enter a whole number of tokens, like 2."),
        ({"tokens": "0"}, "You can give from 1 to 20 tokens."),
        ({"tokens": "21"}, "You can give from 1 to 20 tokens."),
    ],
)
def test_a_bad_answer_is_shown_beside_its_field_and_nothing_is_started(
    client: Client,
    southwark: Personas,
    stripe_server: LocalStripe,
    changes: dict[str, str],
    message: str,
) -> None:
    response = client.post(link(southwark.alice), {**GOOD, **changes})

    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert message in words
    assert "Error:" in response.content.decode().split("</title>")[0]
    assert CheckoutSession.objects.count() == 0
    assert stripe_server.requests == []


# --- Broken and old links ---------------------------------------------------------------------


def test_an_expired_link_says_so_and_cannot_be_used(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    url = link(southwark.alice, days_ago=90.01)
    response = client.get(url)

    assert response.status_code == 410
    assert "This gift link has expired" in text_of(response)
    assert 'href="tel:+442079460000"' in response.content.decode()
    assert client.post(url, GOOD).status_code == 410
    assert CheckoutSession.objects.count() == 0


def test_the_age_of_a_link_is_a_setting(client: Client, southwark: Personas, settings: Any) -> None:
    settings.GIFT_LINK_MAX_AGE_DAYS = 120

    assert client.get(link(southwark.alice, days_ago=100)).status_code == 200


def test_back_from_stripe_just_after_the_link_expired_is_still_thanked(
    client: Client, southwark: Personas
) -> None:
    response = client.get(f"{link(southwark.alice, days_ago=91)}?checkout=paid")

    assert response.status_code == 200
    assert "Your payment is being confirmed" in text_of(response)


@pytest.mark.parametrize(
    "change",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: "x" + token,
        lambda token: token.split(":")[0],
        lambda token: "not-a-link",
    ],
)
def test_a_tampered_link_is_page_not_found(
    client: Client, southwark: Personas, stripe_server: LocalStripe, change: Any
) -> None:
    token = link(southwark.alice).split("/")[2]

    assert client.get(f"/gift/{change(token)}/").status_code == 404
    assert client.post(f"/gift/{change(token)}/", GOOD).status_code == 404
    assert CheckoutSession.objects.count() == 0


def test_a_link_naming_a_member_of_another_circle_is_page_not_found(
    client: Client, southwark: Personas
) -> None:
    payload = {
        "m": southwark.sam.pk,
        "c": southwark.southwark.pk,
        "i": int(timezone.now().timestamp()),
    }
    signed = signing.Signer(salt=GIFT_LINK_SALT).sign_object(payload, compress=True)

    assert client.get(f"/gift/{signed}/").status_code == 404


# --- Giving -------------------------------------------------------------------------------------


def test_giving_opens_a_checkout_and_the_webhook_credits_it_once_with_the_givers_name(
    client: Client, southwark: Personas, stripe_server: LocalStripe
) -> None:
    alice = southwark.alice
    url = link(alice)

    response = client.post(url, GOOD)

    assert response.status_code == 303
    checkout = CheckoutSession.objects.get()
    assert response["Location"] == checkout.url
    assert (checkout.member, checkout.tokens, checkout.created_by) == (alice, 2, None)
    assert (checkout.gift_from, checkout.gift_email) == ("Dora Archer", "dora@example.com")
    assert checkout.stripe_session_id is not None
    session = stripe_server.get(checkout.stripe_session_id, "checkout.session")
    assert session["success_url"] == f"http://127.0.0.1:8000{url}?checkout=paid"
    assert session["cancel_url"] == f"http://127.0.0.1:8000{url}?checkout=cancelled"

    # Back from Stripe before the webhook: thanked, never told it is paid.
    thanks = text_of(client.get(f"{url}?checkout=paid"))
    assert "Your payment is being confirmed" in thanks
    assert "the tokens go to Alice" in thanks
    assert wallet_minutes(alice) == 0

    events = stripe_server.complete(checkout.stripe_session_id)
    deliver_all(stripe_server, events)
    deliver_all(stripe_server, events)
    assert wallet_minutes(alice) == 120

    client.force_login(alice.user)
    statement = text_of(client.get("/my/tokens/"))
    assert statement.count("Gift from Dora Archer") == 1


def test_cancelled_at_stripe_says_nothing_was_taken(client: Client, southwark: Personas) -> None:
    words = text_of(client.get(f"{link(southwark.alice)}?checkout=cancelled"))

    assert "You did not finish paying, so nothing was taken from your card." in words
    assert "Buy time for Alice" in words


def test_card_payments_not_set_up_is_a_plain_page(
    client: Client, southwark: Personas, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    response = client.post(link(southwark.alice), GOOD)

    assert response.status_code == 503
    assert "Paying by card is not working just now" in text_of(response)
    assert CheckoutSession.objects.count() == 0


# --- The member's link to share ----------------------------------------------------------------


def test_the_pay_page_offers_a_gift_link(client: Client, southwark: Personas) -> None:
    client.force_login(southwark.alice.user)
    response = client.get("/my/pay/")

    assert "Gifts from family and friends" in text_of(response)
    assert 'href="/my/pay/gift-link/"' in response.content.decode()


def test_the_member_makes_their_link_to_copy(client: Client, southwark: Personas) -> None:
    alice = southwark.alice
    client.force_login(alice.user)

    page = client.get("/my/pay/gift-link/")
    assert page.status_code == 200
    assert "Make my gift link" in text_of(page)
    assert not AuditEvent.objects.filter(action="payment.gift_link_made").exists()

    response = client.post("/my/pay/gift-link/")

    assert response.status_code == 200
    html = response.content.decode()
    value = html.split('id="gift-link-url"')[1].split('value="')[1].split('"')[0]
    assert value.startswith("http://127.0.0.1:8000/gift/")
    assert gift_link_read(value.rstrip("/").rsplit("/", 1)[-1]).member_id == alice.pk
    assert "It works until" in text_of(response)
    event = AuditEvent.objects.get(action="payment.gift_link_made")
    assert (event.member, event.actor) == (alice, alice.user)


def test_signed_out_the_share_page_asks_to_sign_in(client: Client, southwark: Personas) -> None:
    response = client.get("/my/pay/gift-link/")

    assert response.status_code == 302
    assert "/my/pay/gift-link/" in response["Location"]


# --- The console's gift link --------------------------------------------------------------------


def console_url(personas: Personas, member: Member | None = None) -> str:
    return f"/console/southwark/members/{(member or personas.alice).pk}/gift-link/"


@pytest.mark.parametrize("who", ["cora", "otto"])
def test_staff_make_a_members_gift_link_from_the_card(
    client: Client, southwark: Personas, who: str
) -> None:
    staff = getattr(southwark, who)
    client.force_login(staff.user)
    card = client.get(f"/console/southwark/members/{southwark.alice.pk}/")
    assert console_url(southwark) in card.content.decode()

    page = client.get(console_url(southwark))
    assert page.status_code == 200
    assert "Make a gift link" in text_of(page)
    assert "Alice Archer" in text_of(page)

    response = client.post(console_url(southwark))

    assert response.status_code == 200
    html = response.content.decode()
    value = html.split('id="gift-link-url"')[1].split('value="')[1].split('"')[0]
    assert gift_link_read(value.rstrip("/").rsplit("/", 1)[-1]).member_id == southwark.alice.pk
    event = AuditEvent.objects.get(action="payment.gift_link_made")
    assert (event.member, event.actor) == (southwark.alice, staff.user)


def test_the_console_page_costs_the_same_queries_for_any_member(
    client: Client, southwark: Personas, django_assert_num_queries: Any
) -> None:
    client.force_login(southwark.cora.user)
    client.get(console_url(southwark))  # the session warmed
    # As a GET, and the audit row in its transaction.
    with django_assert_num_queries(7):
        client.post(console_url(southwark))
    with django_assert_num_queries(7):
        client.post(console_url(southwark, southwark.bob))
    with django_assert_num_queries(4):  # the session, the user, the caller, the member
        client.get(console_url(southwark, southwark.bob))


def test_a_member_may_not_use_the_console_page(client: Client, southwark: Personas) -> None:
    client.force_login(southwark.bob.user)

    assert client.post(console_url(southwark)).status_code == 403
    assert not AuditEvent.objects.filter(action="payment.gift_link_made").exists()


def test_staff_of_another_circle_find_nothing(client: Client, southwark: Personas) -> None:
    client.force_login(southwark.clara.user)

    assert client.post(console_url(southwark)).status_code in (403, 404)
    assert (
        client.post(f"/console/suffolk/members/{southwark.alice.pk}/gift-link/").status_code == 404
    )
    assert not AuditEvent.objects.filter(action="payment.gift_link_made").exists()
