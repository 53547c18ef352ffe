"""An operator with a caller on the line, keyboard only, at a desk (1280 px) and at 320 px: Otto
records Alice's cash for the year (an empty form first, then the check step, then recorded), and
sends her a card payment link by text; in another browser context (Alice's phone) the link's page
opens a Checkout on the local Stripe, which pays and delivers its webhook to the live server; the
link then says there is nothing more to pay. axe-core checks every state of our pages.

The caller's card (`web:console-member`) is built on another branch: each action ends there, so
this test asserts the address it lands on, not the card's words. Set CIRCLE_SCREENSHOTS to a path
prefix to keep pictures.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messaging.models import Sms
from payments.models import Payment
from payments.stripe_local import LocalStripe, running
from tests.browser.conftest import PageAt, Width, assert_accessible, sign_in
from tests.browser.test_ask_journey import choose, press_enter
from tests.browser.test_ask_journey import tab_to as tab_to_named
from tests.browser.test_join_journey import path_of, screenshot, tab_to, type_into
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.payments.conftest import WEBHOOK_SECRET, WEBHOOK_URL, wallet_minutes
from tests.web.test_pay_link import link

WEBHOOK_WAIT_SECONDS = 15


@pytest.fixture
def southwark(personas: Personas) -> Personas:
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])
    return personas


@pytest.fixture
def stand_in(live_server: LiveServer, settings: Any) -> Iterator[LocalStripe]:
    """The local Stripe, delivering its webhooks to the live server; Circle pointed at it."""
    with running(
        webhook_secret=WEBHOOK_SECRET, webhook_url=f"{live_server.url}{WEBHOOK_URL}"
    ) as state:
        settings.STRIPE_API_BASE = state.base_url
        settings.STRIPE_SECRET_KEY = "sk_test_x"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_CHECKOUT_RETURN_URL = live_server.url
        yield state


def check(page: Page, label: str, *, error_page: bool = False) -> None:
    assert_accessible(page, label, error_page=error_page)
    screenshot(page, f"console-pay-{label.replace(' ', '-').replace(',', '')}")


def record_cash_for_the_year(page: Page, southwark: Personas) -> None:
    alice = southwark.alice
    card = f"/console/southwark/members/{alice.pk}/"
    page.goto(f"{card}payments/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a payment")
    expect(page.locator("#id_amount")).to_have_value("10.00")
    check(page, "payment form")

    # Continue with the reference and call reference left empty.
    tab_to(page, text="Continue")
    press_enter(page)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the receipt number, cheque number or bank reference.")
    expect(summary).to_contain_text("Enter the call reference.")
    check(page, "payment form errors")

    type_into(page, "id_reference", "R-1001")
    type_into(page, "id_call_reference", "CALL-77")
    press_enter(page)  # Enter in a box sends the form
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Record £10.00 cash for Alice's membership until"
    )
    check(page, "payment check")
    assert Payment.objects.count() == 0

    tab_to(page, text="Record payment")
    press_enter(page)
    assert path_of(page) == card
    payment = Payment.objects.get()
    assert (payment.member_id, payment.method, payment.reference) == (alice.pk, "cash", "R-1001")


def send_a_link_for_two_tokens(page: Page, southwark: Personas) -> str:
    alice = southwark.alice
    card = f"/console/southwark/members/{alice.pk}/"
    page.goto(f"{card}pay-link/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Send a card payment link")
    check(page, "pay link form")

    choose(page, "purpose", "Tokens")
    type_into(page, "id_tokens", "2")
    choose(page, "channel", "Text message to 07700 900001")
    type_into(page, "id_call_reference", "CALL-78")
    press_enter(page)
    assert path_of(page) == card
    found = re.search(r"/pay/[^/ ]+/", Sms.objects.get().body)
    assert found is not None
    return found[0]


def pay_through_the_link(phone: Page, path: str, stand_in: LocalStripe) -> None:
    phone.goto(path)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Pay for Alice's tokens")
    expect(phone.locator("main")).to_contain_text("£20.00 (£10.00 a token)")
    check(phone, "pay link page")

    tab_to_named(phone, text="Pay by card", tag="BUTTON")
    press_enter(phone)
    assert phone.url.startswith(f"{stand_in.base_url}/pay/"), phone.url
    tab_to_named(phone, text="Pay", tag="BUTTON")  # the stand-in's page, not ours
    press_enter(phone)
    assert phone.url.endswith(f"{path}?checkout=paid"), phone.url
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(phone.locator("main")).to_contain_text("Your payment is being confirmed")
    check(phone, "pay link thanks")

    # Once the webhook is in, the link has done its work.
    deadline = time.monotonic() + WEBHOOK_WAIT_SECONDS
    while True:
        phone.goto(path)
        if "There is nothing to pay" in phone.locator("main").inner_text():
            break
        if time.monotonic() > deadline:
            pytest.fail("the webhook never applied the link's payment")
        time.sleep(0.5)
    check(phone, "pay link already paid")


@pytest.mark.postgres  # cash for the year and tokens bought write ledger rows
@pytest.mark.parametrize("width", [1280, 320])
def test_otto_records_cash_and_sends_a_link_alice_pays_by_card(
    page_at: PageAt,
    live_server: LiveServer,
    southwark: Personas,
    stand_in: LocalStripe,
    width: Width,
) -> None:
    page = page_at(width)
    sign_in(page, live_server, "otto@example.org", PASSWORD)

    record_cash_for_the_year(page, southwark)
    path = send_a_link_for_two_tokens(page, southwark)
    pay_through_the_link(page_at(width), path, stand_in)

    assert wallet_minutes(southwark.alice) == 120


@pytest.mark.parametrize("width", [1280, 320])
def test_an_expired_link_and_card_payments_down_are_plain_pages(
    page_at: PageAt, southwark: Personas, settings: Any, width: Width
) -> None:
    page = page_at(width)
    page.goto(link(southwark.alice, days_ago=8))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    check(page, "pay link expired", error_page=True)

    page.goto(f"{link(southwark.alice)}?checkout=cancelled")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("nothing was taken")
    check(page, "pay link cancelled")

    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    tab_to_named(page, text="Pay by card", tag="BUTTON")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Paying by card is not working just now"
    )
    check(page, "pay link stripe down", error_page=True)


def test_the_amount_follows_what_is_chosen_until_typed_by_hand(
    page_at: PageAt, live_server: LiveServer, southwark: Personas
) -> None:
    """The small script keeps the amount at the circle's price for what is chosen."""
    page = page_at(1280)
    sign_in(page, live_server, "otto@example.org", PASSWORD)
    page.goto(f"/console/southwark/members/{southwark.alice.pk}/payments/new/")
    amount = page.locator("#id_amount")

    choose(page, "purpose", "Tokens")
    type_into(page, "id_tokens", "3")
    expect(amount).to_have_value("30.00")
    choose(page, "purpose", "Membership for a year")
    expect(amount).to_have_value("10.00")

    type_into(page, "id_amount", "12.50")
    choose(page, "purpose", "Tokens")
    expect(amount).to_have_value("12.50")
    assert_accessible(page, "payment form with tokens chosen")
