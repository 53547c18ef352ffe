"""Gifts from family (issue 14), at a desk (1280 px) and at 320 px: Alice makes her gift link on
her Pay page; in another browser context, not signed in (her daughter's phone), the link's page
refuses an empty form, then opens a Checkout on the local Stripe for 2 tokens, which pays and
delivers its webhook to the live server; Alice's tokens page then says who gave them. axe-core
checks every state of our pages. Set CIRCLE_SCREENSHOTS to a path prefix to keep pictures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from payments.stripe_local import LocalStripe, running
from tests.browser.conftest import PageAt, Width, assert_accessible, sign_in
from tests.browser.test_ask_journey import press_enter
from tests.browser.test_ask_journey import tab_to as tab_to_named
from tests.browser.test_join_journey import screenshot, type_into
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.payments.conftest import WEBHOOK_SECRET, WEBHOOK_URL, wallet_minutes
from tests.web.test_gift_link import link

pytestmark = pytest.mark.browser

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
        settings.SITE_URL = live_server.url
        yield state


def check(page: Page, label: str, *, error_page: bool = False) -> None:
    assert_accessible(page, label, error_page=error_page)
    screenshot(page, f"gift-{label.replace(' ', '-')}")


def alice_shares_her_link(page: Page) -> str:
    page.goto("/my/pay/")
    check(page, "pay page")
    page.get_by_role("button", name="Share a gift link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Share a gift link")
    check(page, "share page")
    tab_to_named(page, text="Make my gift link", tag="BUTTON")
    press_enter(page)
    box = page.get_by_label("Your gift link: copy it into a text message or email")
    expect(box).to_be_visible()
    url = box.input_value()
    assert "/gift/" in url, url
    check(page, "share page with link")
    return url


def daughter_gives_two_tokens(phone: Page, url: str, stand_in: LocalStripe) -> None:
    phone.goto(url)
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Buy time for Alice at Southwark Circle"
    )
    expect(phone.locator("main")).to_contain_text("Each token costs £10.00")
    check(phone, "gift page")

    tab_to_named(phone, text="Continue to payment", tag="BUTTON")
    press_enter(phone)
    summary = phone.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your name.")
    expect(summary).to_contain_text("Enter how many tokens you want to give, like 2.")
    check(phone, "gift page errors")

    type_into(phone, "id_giver_name", "Dora")
    type_into(phone, "id_tokens", "2")
    press_enter(phone)  # Enter in a box sends the form
    assert phone.url.startswith(f"{stand_in.base_url}/pay/"), phone.url
    tab_to_named(phone, text="Pay", tag="BUTTON")  # the stand-in's page, not ours
    press_enter(phone)
    assert "?checkout=paid" in phone.url, phone.url
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(phone.locator("main")).to_contain_text("Your payment is being confirmed")
    check(phone, "gift thanks")


def alice_sees_the_gift(page: Page) -> None:
    deadline = time.monotonic() + WEBHOOK_WAIT_SECONDS
    while True:
        page.goto("/my/tokens/")
        if "Gift from Dora" in page.locator("main").inner_text():
            break
        if time.monotonic() > deadline:
            pytest.fail("the webhook never credited the gift")
        time.sleep(0.5)
    check(page, "tokens with the gift")


@pytest.mark.postgres  # the gift writes ledger rows
@pytest.mark.parametrize("width", [1280, 320])
def test_alices_daughter_buys_her_two_tokens_through_her_gift_link(
    page_at: PageAt,
    live_server: LiveServer,
    southwark: Personas,
    stand_in: LocalStripe,
    width: Width,
) -> None:
    page = page_at(width)
    sign_in(page, live_server, "alice@example.org", PASSWORD)

    url = alice_shares_her_link(page)
    daughter_gives_two_tokens(page_at(width), url, stand_in)
    alice_sees_the_gift(page)

    assert wallet_minutes(southwark.alice) == 120


@pytest.mark.parametrize("width", [1280, 320])
def test_an_expired_gift_link_and_a_cancelled_payment_are_plain_pages(
    page_at: PageAt, southwark: Personas, width: Width
) -> None:
    page = page_at(width)
    page.goto(link(southwark.alice, days_ago=91))
    expect(page.get_by_role("heading", level=1)).to_have_text("This gift link has expired")
    check(page, "gift expired", error_page=True)

    page.goto(f"{link(southwark.alice)}?checkout=cancelled")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("nothing was taken")
    check(page, "gift cancelled")


@pytest.mark.parametrize("width", [1280, 320])
def test_otto_makes_alices_gift_link_from_her_card(
    page_at: PageAt, live_server: LiveServer, southwark: Personas, width: Width
) -> None:
    page = page_at(width)
    sign_in(page, live_server, "otto@example.org", PASSWORD)
    page.goto(f"/console/southwark/members/{southwark.alice.pk}/")
    page.get_by_role("button", name="Share a gift link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Share a gift link")
    check(page, "console share page")
    tab_to_named(page, text="Make a gift link", tag="BUTTON")
    press_enter(page)
    box = page.get_by_label("The gift link: copy it into a text message or email")
    assert "/gift/" in box.input_value()
    check(page, "console share page with link")
