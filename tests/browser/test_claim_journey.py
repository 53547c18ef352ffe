"""A phone member claims her account by the SMS link, in Chromium at 1280 px and 320 px: Otto
sends Pat (registered on the phone, no login) a link from her caller's card; the text arrives
(read from the test SMS outbox); Pat opens it, sets a password and lands at home; she signs
out and signs in with her mobile number; the link, opened again, says it has been used. An
expired link says so with the circle's number. axe-core is silent on every page.

Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/claim-`) to keep a picture of each state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from circle import sms
from members.models import AuditEvent, ClaimLink, JoinedVia, Member
from members.selectors import caller_for
from messaging.services import claim_link_send
from tests.browser.conftest import assert_accessible, assert_no_browser_errors, sign_in
from tests.browser.test_join_journey import screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD, MemberFactory

pytestmark = [pytest.mark.browser]

PAT_MOBILE = "+447900123456"
NEW_PASSWORD = "Blue-Kettle-Morning-42"


@pytest.fixture
def sms_outbox(settings: Any) -> Iterator[list[sms.Sms]]:
    # The live server runs in this process, so its texts land in circle.sms.outbox.
    settings.SMS_BACKEND = "circle.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def pat(personas: Personas) -> Member:
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])
    return MemberFactory(
        circle=personas.southwark,
        user=None,
        full_name="Pat Phillips",
        email=None,
        phone=PAT_MOBILE,
        joined_via=JoinedVia.PHONE,
    )


def check(page: Page, label: str, *, error_page: bool = False) -> None:
    assert_accessible(page, label, error_page=error_page)
    assert_no_browser_errors(page, label, error_page=error_page)
    screenshot(page, f"claim-{label}")


def sign_out(page: Page) -> None:
    """As a person would at any width: the sign-out page's own button (at 320 px the header's
    is inside the folded menu)."""
    page.goto("/sign-out/")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign out").click()


def claim_path(outbox: list[sms.Sms]) -> str:
    found = re.search(r"https?://[^/\s]+(/claim/[A-Za-z0-9_-]+/)", outbox[-1].body)
    assert found, outbox[-1].body
    return found.group(1)


def test_a_phone_member_claims_her_account_by_the_sms_link(
    page: Page,
    live_server: LiveServer,
    personas: Personas,
    pat: Member,
    sms_outbox: list[sms.Sms],
) -> None:
    # Otto, on the phone to Pat, sends the link from her card.
    sign_in(page, live_server, "otto@example.org", PASSWORD)
    page.goto(f"/console/southwark/members/{pat.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Send a link to set a password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send a link to set a password")
    check(page, "console")
    page.get_by_label("Text message to 07900 123456").check()
    page.get_by_label("Call reference").fill("CALL-314")
    with page.expect_navigation():
        page.get_by_role("button", name="Send link").click()
    assert urlsplit(page.url).path == f"/console/southwark/members/{pat.pk}/"
    expect(page.locator("main")).to_contain_text(
        "Sent Pat Phillips a text message with a link to set a password"
    )
    assert (
        AuditEvent.objects.get(action="member.claim_link_sent", member=pat).actor
        == personas.otto.user
    )
    sign_out(page)

    # Pat's text.
    (text,) = sms_outbox
    assert text.to == PAT_MOBILE
    assert text.body.startswith("Set a password for Circle: ")
    assert text.body.endswith("The link works once, for 3 days.")
    path = claim_path(sms_outbox)

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Pat, set a password")
    check(page, "form")
    # A mismatch first: the error summary, and nothing written.
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill("something else")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("are not the same")
    check(page, "form-error")
    pat.refresh_from_db()
    assert pat.user is None

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Save the password").click()
    assert urlsplit(page.url).path == "/my/"
    expect(page.locator("main")).to_contain_text("Your password is set")
    check(page, "home")
    pat.refresh_from_db()
    assert pat.user is not None
    assert pat.user.phone == PAT_MOBILE

    # Next time, she signs in with her mobile number, spaced as she reads it.
    sign_out(page)
    sign_in(page, live_server, "07900 123456", NEW_PASSWORD)
    assert urlsplit(page.url).path == "/my/"
    sign_out(page)

    # The link is spent.
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    check(page, "used", error_page=True)


def test_an_expired_link_says_so_plainly(
    page: Page,
    live_server: LiveServer,
    personas: Personas,
    pat: Member,
    sms_outbox: list[sms.Sms],
) -> None:
    claim_link_send(
        member=pat,
        channel="sms",
        caller=caller_for(user=personas.otto.user, circle=personas.southwark),
        call_reference="CALL-1",
    )
    link = ClaimLink.objects.get()
    ClaimLink.objects.filter(pk=link.pk).update(
        created_at=link.created_at - timedelta(hours=73),
        expires_at=link.expires_at - timedelta(hours=73),
    )

    page.goto(f"{live_server.url}{claim_path(sms_outbox)}")

    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    expect(page.locator("main")).to_contain_text("020 7946 0000")
    check(page, "expired", error_page=True)
