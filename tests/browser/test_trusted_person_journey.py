"""A daughter acts as trusted person and the member sees it (issue 14), in Chromium at 1280 px
and 320 px, by keyboard, with axe-core silent on every new page:

Alice names her daughter Dee on /my/trusted-persons/ (asking for help and reading the
statement, nothing more); Dee sets her password from the email she is sent, signs in, lands on
/trusted/, acts for her mother and asks for help through the ask journey; a page outside her
scopes refuses her; Alice signs in and reads, on what was done for her, "Done by Dee Archer
(trusted person) for Alice Archer".
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from matching.models import Task
from members.models import AuditEvent, TrustedPerson
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_ask_journey import choose, continue_, press_enter, tab_to
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.conftest import london, make_active

# Booking holds tokens: the ledger is written, so PostgreSQL only.
pytestmark = [pytest.mark.browser, pytest.mark.postgres]

DEE_PASSWORD = "a-daughter-2026-pw"


@pytest.fixture
def world(personas: Personas) -> Personas:
    make_active(personas.alice, by=personas.otto, tokens=5)
    personas.alice.refresh_from_db()
    return personas


def check(page: Page, label: str, *, error_page: bool = False) -> None:
    assert_accessible(page, f"trusted-{label}", error_page=error_page)


def tick(page: Page, label: str) -> None:
    """Tab to a checkbox by its label and tick it with the space bar."""
    tab_to(page, label=label)
    page.keyboard.press("Space")


def alice_names_dee(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "alice@example.org", PASSWORD)
    page.goto("/my/")
    tab_to(page, text="People you trust to act for you")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("People you trust to act for you")
    check(page, "mine-empty")

    # Nothing chosen first: the error summary, nothing written.
    tab_to(page, label="Their full name")
    page.keyboard.type("Dee Archer")
    tab_to(page, text="Name them", tag="BUTTON")
    press_enter(page)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter their email address.")
    expect(summary).to_contain_text("Choose at least one thing they may do.")
    assert not TrustedPerson.objects.exists()
    check(page, "mine-error")

    tab_to(page, label="Their email address")
    page.keyboard.type("dee@example.net")
    tick(page, "Ask for help for me, and cancel a request")
    tick(page, "See my tokens and statement")
    tab_to(page, text="Name them", tag="BUTTON")
    press_enter(page)
    main = page.locator("main")
    expect(main).to_contain_text("Dee Archer can now act for you.")
    expect(main).to_contain_text("Ask for help (and cancel a request)")
    expect(main).to_contain_text("Read the tokens statement")
    check(page, "mine-named")
    link = TrustedPerson.objects.get()
    assert link.scopes == ["ask", "statement"]
    page.context.clear_cookies()


def dee_sets_her_password(page: Page, live_server: LiveServer) -> None:
    (sent,) = mail.outbox
    assert sent.to == ["dee@example.net"]
    found = re.search(r"/password-reset/\S+/", sent.body)
    assert found is not None, sent.body
    assert f"{settings.SITE_URL}{found.group(0)}" in sent.body
    page.goto(f"{live_server.url}{found.group(0)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("New password", exact=True).fill(DEE_PASSWORD)
    page.get_by_label("Type the new password again", exact=True).fill(DEE_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Save the new password").click()


def dee_asks_for_help_for_her_mother(page: Page, live_server: LiveServer) -> Task:
    sign_in(page, live_server, "dee@example.net", DEE_PASSWORD)
    assert page.url.endswith("/trusted/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The people you help")
    expect(page.locator("main")).to_contain_text("Alice Archer, Southwark Circle")
    check(page, "home")

    tab_to(page, text="Act for Alice Archer")
    press_enter(page)
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("You are acting for Alice Archer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Archer")
    # The menu shows only what she may do.
    menu = page.get_by_role("navigation", name="Menu")
    expect(menu).to_contain_text("Ask for help")
    expect(menu).to_contain_text("Tokens")
    expect(menu).not_to_contain_text("Pay")
    check(page, "acting")

    tab_to(page, text="Ask for help for them")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for help")
    expect(banner).to_contain_text("You are acting for Alice Archer")
    check(page, "ask-start")
    tab_to(page, text="Start")
    press_enter(page)
    choose(page, "category", "Gardening")
    continue_(page)
    tab_to(page, label="In a few words, what is the job?")
    page.keyboard.type("Weed the front path")
    continue_(page)
    choose(page, "day", f"Tomorrow: {london(hour=10):%A} {london(hour=10).day} {london():%B}")
    continue_(page)
    tab_to(page, name="start")
    page.keyboard.type("10am")
    tab_to(page, name="end")
    page.keyboard.type("12pm")
    continue_(page)
    choose(page, "minutes", "1 hour (1 token)")
    continue_(page)
    choose(page, "repeat", "No, just this once")
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    check(page, "ask-check")
    tab_to(page, text="Ask for help", tag="BUTTON")
    press_enter(page)

    task = Task.objects.get(title="Weed the front path")
    assert task.member_id == TrustedPerson.objects.get().member_id
    assert page.url.endswith(f"/my/requests/{task.pk}/")
    expect(page.locator("main")).to_contain_text("Looking for a helper")
    expect(banner.first).to_contain_text("You are acting for Alice Archer")
    check(page, "request")

    # Outside her scopes: her mother's details are not hers to see.
    page.goto("/my/details/")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot do this for them")
    check(page, "refused", error_page=True)
    page.context.clear_cookies()
    return task


def alice_sees_what_dee_did(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "alice@example.org", PASSWORD)
    page.goto("/my/on-my-behalf/")
    main = page.locator("main")
    expect(main).to_contain_text("Asked for help for you")
    expect(main).to_contain_text("Done by Dee Archer (trusted person) for Alice Archer")
    check(page, "on-my-behalf")


def test_a_daughter_acts_as_trusted_person_and_the_member_sees_it(
    page: Page, live_server: LiveServer, world: Personas
) -> None:
    alice_names_dee(page, live_server)
    dee_sets_her_password(page, live_server)
    task = dee_asks_for_help_for_her_mother(page, live_server)
    alice_sees_what_dee_did(page, live_server)

    booked = AuditEvent.objects.get(action="task.booked", data__task_id=task.pk)
    assert booked.actor is not None
    assert booked.actor.email == "dee@example.net"
    assert booked.actor_member_id is None
    assert booked.member_id == world.alice.pk


def test_the_member_ends_it_and_the_daughter_is_stopped_at_once(
    page: Page, live_server: LiveServer, world: Personas
) -> None:
    alice_names_dee(page, live_server)
    dee_sets_her_password(page, live_server)
    sign_in(page, live_server, "dee@example.net", DEE_PASSWORD)
    page.goto(f"/trusted/{world.alice.pk}/")
    dee_cookies = page.context.cookies()
    page.context.clear_cookies()

    sign_in(page, live_server, "alice@example.org", PASSWORD)
    page.goto("/my/trusted-persons/")
    # The link reads "Stop" with the name for a screen reader (its words wrap at 320 px).
    page.get_by_role("link", name="Stop Dee Archer acting for you").focus()
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop Dee Archer acting for you?")
    check(page, "end")
    tab_to(page, text="Yes, stop it now", tag="BUTTON")
    press_enter(page)
    expect(page.locator("main")).to_contain_text("Dee Archer can no longer act for you.")
    page.context.clear_cookies()

    page.context.add_cookies(dee_cookies)
    page.goto("/my/tokens/")
    assert page.url.endswith("/trusted/")
    expect(page.locator("main")).to_contain_text("Nobody has named you")
    check(page, "home-ended")
