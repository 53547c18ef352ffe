"""Staff two-factor in Chromium, at 1280 px and 320 px, by keyboard: a coordinator without a
second factor cannot reach the desk in production mode (STAFF_TWO_FACTOR=required). Signing in
sends her to set it up; she adds the secret shown as text to her app (the test computes the
app's code from it), types the code, sees her ten recovery codes once, and reaches the desk. A
later sign-in asks for the code, and a wrong one is refused with the error summary. axe-core is
silent on every new page.

The live server runs in this process, so the `settings` fixture reaches it.
Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/tf-`) to keep a picture of each state.
"""

from __future__ import annotations

from base64 import b32decode
from urllib.parse import urlsplit

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_ask_journey import press_enter, tab_to
from tests.browser.test_join_journey import screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.two_factor import next_code

pytestmark = pytest.mark.browser


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    screenshot(page, f"two-factor-{label}")


def type_code(page: Page, code: str, button: str) -> None:
    tab_to(page, label="Code")
    page.keyboard.type(code)
    tab_to(page, text=button, tag="BUTTON")
    press_enter(page)


def test_a_coordinator_without_a_second_factor_cannot_reach_the_desk_in_production_mode(
    page: Page, live_server: LiveServer, personas: Personas, settings
) -> None:
    settings.STAFF_TWO_FACTOR = "required"
    sign_in(page, live_server, "cora@example.org", PASSWORD)
    # Not the desk: setting up two-factor first.
    assert urlsplit(page.url).path == "/account/two-factor/set-up/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    check(page, "set-up")
    page.goto("/coordinator/southwark/")
    assert urlsplit(page.url).path == "/account/two-factor/set-up/"

    secret = page.locator("[data-secret]").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    type_code(page, "12345", "Turn on two-factor sign-in")
    expect(page.locator(".govuk-error-summary")).to_contain_text("That code is not right")
    check(page, "set-up-error")
    type_code(page, f"{totp(key):06d}", "Turn on two-factor sign-in")

    expect(page.locator(".govuk-panel__title")).to_have_text("Two-factor sign-in is on")
    codes = page.locator("[data-recovery-code]")
    expect(codes).to_have_count(10)
    check(page, "recovery-codes")
    tab_to(page, text="Continue", tag="A")
    press_enter(page)
    assert urlsplit(page.url).path == "/coordinator/southwark/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Needs attention")

    page.goto("/coordinator/southwark/settings/")
    with page.expect_navigation():
        page.get_by_role("link", name="The circle's staff and their two-factor sign-in").click()
    expect(page.locator("main")).to_contain_text("Cora Coordinator (you)")
    check(page, "staff")
    page.goto("/account/two-factor/")
    expect(page.locator("main")).to_contain_text("You have 10 recovery codes left")
    check(page, "account")

    # A later sign-in asks for the code.
    page.goto("/sign-out/")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "cora@example.org", PASSWORD)
    assert urlsplit(page.url).path == "/sign-in/code/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    check(page, "code")
    page.goto("/coordinator/southwark/")
    assert urlsplit(page.url).path == "/sign-in/"
    page.goto("/sign-in/code/")
    # A recovery code she never had (a wrong app code would hold the app's codes back for a
    # second: django_otp's throttling).
    type_code(page, "abcd-efgh", "Continue")
    expect(page.locator(".govuk-error-summary")).to_contain_text("That code is not right")
    check(page, "code-error")
    type_code(page, next_code(device(personas)), "Continue")
    assert urlsplit(page.url).path == "/coordinator/southwark/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Needs attention")


def device(personas: Personas) -> TOTPDevice:
    return TOTPDevice.objects.get(user=personas.cora.user, confirmed=True)
