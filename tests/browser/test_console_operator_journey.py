"""Issue 12's operator journey, whole, at a desk and by keyboard alone: Otto signs in and lands on
the console; Alice rings; he finds her by the phone number she reads out (results as he types),
registers her neighbour Dora, who wants to join on the same call, goes back to Alice's card,
records her cash for the year, books help for her; and Alice, signing in later, reads both on
her "What staff have done for you" page. Every page and state on the way is checked by axe-core.

The parts have journeys of their own (test_console_find_journey, test_console_card_journey,
test_console_pay_journey); this one shows they join up, from the sign-in page to the member's.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from matching.models import Task
from members.models import AuditEvent, Member, MembershipStatus
from payments.models import Payment
from tests.browser.conftest import PageAt, assert_accessible
from tests.browser.test_console_card_journey import pick, press_enter, tab_to, type_into
from tests.browser.test_join_journey import focused, path_of, screenshot
from tests.browser.test_join_journey import type_into as type_into_box
from tests.conftest import Personas
from tests.factories import PASSWORD, years_ago
from tests.matching.conftest import give_tokens, london

# Paying and booking write ledger rows: PostgreSQL only (see conftest.py).
pytestmark = pytest.mark.postgres


def check(page: Page, label: str) -> None:
    assert_accessible(page, f"operator journey, {label}")
    screenshot(page, f"operator-{label.replace(' ', '-')}")


def sign_in_by_keyboard(page: Page, live_server: LiveServer, email: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    type_into(page, "username", email)
    type_into(page, "password", PASSWORD)
    press_enter(page)


def test_an_operator_serves_callers_by_keyboard_and_the_member_sees_it(
    page_at: PageAt, live_server: LiveServer, personas: Personas
) -> None:
    alice = personas.alice
    # Alice bought tokens by card last year; her membership has not been paid this year.
    give_tokens(alice, minutes=300)
    assert alice.membership_status == MembershipStatus.PENDING
    page = page_at(1280)

    # Otto signs in and lands in the console, the search box ready.
    sign_in_by_keyboard(page, live_server, "otto@example.org")
    assert path_of(page) == "/console/southwark/"
    assert focused(page)["id"] == "id_q"
    check(page, "find")

    # Alice reads out her number as people do.
    page.keyboard.type("07700 900 001", delay=20)
    results = page.locator("#console-results")
    expect(results.get_by_role("link", name="Alice Archer")).to_be_visible()
    check(page, "found")
    tab_to(page, text="Alice Archer", tag="A")
    press_enter(page)
    card = f"/console/southwark/members/{alice.pk}/"
    assert path_of(page) == card
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Archer")
    check(page, "card")

    # Her neighbour Dora, beside her, wants to join: registered on one page.
    tab_to(page, text="Register a caller", tag="A")
    press_enter(page)
    assert path_of(page) == "/console/southwark/members/new/"
    born = years_ago(77)
    for box, value in {
        "id_full_name": "Dora Dawson",
        "id_date_of_birth": str(born.day),
        "id_date_of_birth_month": str(born.month),
        "id_date_of_birth_year": str(born.year),
        "id_address_line1": "14 Tabard Street",
        "id_postcode": "se1 4aa",
        "id_phone": "07912 345679",
        "id_call_reference": "CALL-501",
    }.items():
        type_into_box(page, box, value)
    press_enter(page)
    dora = Member.objects.get(full_name="Dora Dawson")
    assert path_of(page) == f"/console/southwark/members/{dora.pk}/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Dora Dawson")
    check(page, "registered")
    registered = AuditEvent.objects.get(action="member.registered_by_staff", member=dora)
    assert registered.call_reference == "CALL-501"

    # Back to Alice, found again by name this time.
    tab_to(page, text="Find a caller", tag="A")
    press_enter(page)
    assert focused(page)["id"] == "id_q"
    page.keyboard.type("Alice Arch", delay=20)
    expect(results.get_by_role("link", name="Alice Archer")).to_be_visible()
    tab_to(page, text="Alice Archer", tag="A")
    press_enter(page)

    # Cash for the year: the fee is filled in; a check step, then recorded.
    tab_to(page, text="Record a payment", tag="A")
    press_enter(page)
    expect(page.locator("#id_amount")).to_have_value("10.00")
    type_into(page, "reference", "R-2001")
    type_into(page, "call_reference", "CALL-501")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Record £10.00 cash for Alice's membership until"
    )
    check(page, "payment check")
    tab_to(page, text="Record payment", tag="BUTTON")
    press_enter(page)
    assert path_of(page) == card
    assert Payment.objects.get(member=alice).reference == "R-2001"
    alice.refresh_from_db()
    assert alice.membership_status == MembershipStatus.ACTIVE

    # Now she is a member this year, book the help she rang about.
    tab_to(page, text="Book help", tag="A")
    press_enter(page)
    type_into(page, "call_reference", "CALL-501")
    pick(page, "category", "Garden", "gardening")
    type_into(page, "title", "Sweep the leaves")
    type_into(page, "details", "The broom is by the back door.")
    pick(page, "day", "Tomorrow", london().date().isoformat())
    pick(page, "start", "10am", "10:00")
    pick(page, "end", "12pm", "12:00")
    pick(page, "minutes", "1 hour", "60")
    tab_to(page, text="Check the booking", tag="BUTTON")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the booking")
    check(page, "booking check")
    tab_to(page, text="Book help", tag="BUTTON")
    press_enter(page)
    assert path_of(page) == card
    expect(page.locator("main")).to_contain_text("Sweep the leaves")
    check(page, "booked")
    assert Task.objects.get(title="Sweep the leaves").hold.minutes == 60

    # Alice, later, on her own pages.
    page.context.clear_cookies()
    sign_in_by_keyboard(page, live_server, "alice@example.org")
    assert path_of(page) == "/my/"
    page.goto(f"{live_server.url}/my/on-my-behalf/")
    main = page.locator("main")
    expect(main).to_contain_text("Asked for help for you")
    expect(main).to_contain_text("Recorded a payment from you")
    expect(main).to_contain_text("Call CALL-501")
    expect(main).to_contain_text("Otto Operator")
    check(page, "on my behalf")
