"""The operators' console in Chromium, by keyboard alone, at 320 px and 1280 px: finding a caller
by phone as the operator types (JavaScript) and by submitting the form (without it), then
registering a caller, through a refusal and the offer of a caller already registered. axe-core
checks every state.

The caller's card (`web:console-member`) is built on another branch; here it answers "page not
found", so the journeys check only that Enter on a caller goes to its address.

Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/cfind-`) to keep a picture of each state.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from members.models import AuditEvent, Member
from tests.browser.conftest import PageAt, Width, assert_accessible, sign_in
from tests.browser.test_join_journey import focused, path_of, screenshot, tab_to, type_into
from tests.conftest import Personas
from tests.factories import PASSWORD, MemberFactory, years_ago

FIND = "/console/southwark/"
NEW = "/console/southwark/members/new/"
BORN = years_ago(81)


@pytest.fixture
def mary(personas: Personas) -> Member:
    """A caller who joined by phone, as the operator will hear her."""
    return MemberFactory(
        circle=personas.southwark,
        user=None,
        full_name="Mary Ann Smith",
        phone="+447912345678",
        postcode="SE1 7PB",
        date_of_birth=BORN,
    )


def signed_in_as_otto(page: Page, live_server: LiveServer, personas: Personas) -> None:
    assert personas.otto.user is not None
    sign_in(page, live_server, personas.otto.user.email, PASSWORD)
    page.goto(FIND)


@pytest.mark.parametrize("width", [320, 1280])
def test_an_operator_finds_a_caller_by_phone_as_they_type(
    page_at: PageAt, live_server: LiveServer, personas: Personas, mary: Member, width: Width
) -> None:
    page = page_at(width)
    signed_in_as_otto(page, live_server, personas)

    assert focused(page)["id"] == "id_q", "the search box has the focus on arrival"
    assert_accessible(page, "find, on arrival")
    screenshot(page, "find-empty")

    page.keyboard.type("07912 345 678", delay=20)
    results = page.locator("#console-results")
    expect(results.get_by_role("link", name="Mary Ann Smith")).to_be_visible()
    expect(page.locator("#console-results-status")).to_have_text("1 caller matches “07912 345 678”")
    assert path_of(page) == FIND
    assert "q=07912" in page.url, "the address keeps the search, for Back from the card"
    assert focused(page)["id"] == "id_q", "typing never loses the box"
    expect(results).to_contain_text("SE1 7PB")
    expect(results).to_contain_text("07912 345678")
    expect(results).to_contain_text("81")
    expect(results).to_contain_text("Not paid yet")
    assert_accessible(page, "find, a caller found")
    screenshot(page, "find-found")

    # Nothing found says so and offers registering.
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Zebedee", delay=20)
    expect(results).to_contain_text("No callers match “Zebedee”")
    expect(results.get_by_role("button", name="Register a caller")).to_be_visible()
    assert_accessible(page, "find, nobody found")
    screenshot(page, "find-nobody")

    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("se1 7", delay=20)
    expect(results.get_by_role("link", name="Mary Ann Smith")).to_be_visible()

    tab_to(page, text="Mary Ann Smith")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/console/southwark/members/{mary.pk}/"


@pytest.mark.parametrize("width", [320, 1280])
def test_an_operator_finds_a_caller_without_javascript(
    page_at: PageAt, live_server: LiveServer, personas: Personas, mary: Member, width: Width
) -> None:
    page = page_at(width, javascript=False)
    signed_in_as_otto(page, live_server, personas)

    assert focused(page)["id"] == "id_q"
    page.keyboard.type("se17pb")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert path_of(page) == FIND
    main = page.locator("main")
    expect(main).to_contain_text("1 caller matches “se17pb”")
    expect(page.get_by_label("Find a caller")).to_have_value("se17pb")
    assert_accessible(page, "find, submitted")
    screenshot(page, "find-submitted")

    tab_to(page, text="Mary Ann Smith")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/console/southwark/members/{mary.pk}/"


@pytest.mark.parametrize("width", [320, 1280])
def test_an_operator_registers_a_caller_by_keyboard(
    page_at: PageAt, live_server: LiveServer, personas: Personas, mary: Member, width: Width
) -> None:
    page = page_at(width)
    signed_in_as_otto(page, live_server, personas)
    if width == 320:
        # On a narrow screen the console's menu is folded behind its button.
        tab_to(page, text="Menu")
        page.keyboard.press("Enter")
    tab_to(page, text="Register a caller")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == NEW
    assert_accessible(page, "register, empty")
    screenshot(page, "register-empty")

    born = years_ago(76)
    answers = {
        "id_full_name": "Dora Dawson",
        "id_date_of_birth": str(born.day),
        "id_date_of_birth_month": str(born.month),
        "id_date_of_birth_year": str(born.year),
        "id_address_line1": "12 Tabard Street",
        "id_postcode": "IP4 1AA",  # outside Southwark's area
        "id_phone": "07400 123456",
        "id_call_reference": "",
    }
    for field_id, value in answers.items():
        type_into(page, field_id, value)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("That postcode is outside the area this circle covers")
    expect(summary).to_contain_text("Enter the call reference")
    assert page.locator(".govuk-notification-banner").count() == 0
    assert page.title().startswith("Error:")
    assert Member.objects.filter(full_name="Dora Dawson").count() == 0
    assert_accessible(page, "register, refused")
    screenshot(page, "register-error")

    type_into(page, "id_postcode", "se1 7pb")
    type_into(page, "id_phone", "07912 345678")  # Mary's number
    type_into(page, "id_call_reference", "CALL-2041")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("This caller may already be registered")
    expect(banner.get_by_role("link", name="Open Mary Ann Smith's card")).to_have_attribute(
        "href", f"/console/southwark/members/{mary.pk}/"
    )
    assert page.locator(".govuk-error-summary").count() == 0
    assert Member.objects.filter(full_name="Dora Dawson").count() == 0
    assert_accessible(page, "register, a caller offered")
    screenshot(page, "register-offered")

    # Going on without the choice is refused; ticking it registers her.
    tab_to(page, text="Register caller")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "This caller may already be registered. Open their card"
    )
    assert Member.objects.filter(full_name="Dora Dawson").count() == 0
    assert_accessible(page, "register, the choice missing")

    tab_to(page, field_id="id_different_person")
    page.keyboard.press("Space")
    tab_to(page, text="Register caller")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    dora = Member.objects.get(full_name="Dora Dawson")
    assert path_of(page) == f"/console/southwark/members/{dora.pk}/"
    assert dora.postcode == "SE1 7PB"
    assert dora.phone == mary.phone
    event = AuditEvent.objects.get(member=dora)
    assert event.call_reference == "CALL-2041"
    assert event.actor_id == personas.otto.user_id
