"""Joining Southwark in Chromium by keyboard alone (Tab, typing, Enter; no mouse), from the circle's
page through every question and "Check your answers" to the confirmation, at 320 px and 1280 px,
with JavaScript on and off. axe-core checks each page empty, with an answer refused, and filled.

Without JavaScript, assert_accessible checks each page's HTML in a twin page that runs axe.

Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/h4-`) to keep a picture of each page.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from members.models import Member, RoleName
from tests.browser.conftest import PageAt, assert_accessible
from tests.conftest import Personas
from tests.factories import years_ago

NEW_PASSWORD = "Marigold-Teapot-1947"
BORN = years_ago(74)
TOO_YOUNG = years_ago(40)
# Enough Tab presses to cross any of these pages (skip link, header, back link, fields).
MOST_TABS = 40


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def screenshot(page: Page, label: str) -> None:
    prefix = os.environ.get("CIRCLE_SCREENSHOTS", "")
    if not prefix:
        return
    width = page.viewport_size["width"] if page.viewport_size else 0
    scripts = page.evaluate("() => document.body.classList.contains('js-enabled')")
    page.screenshot(path=f"{prefix}{label}-{width}{'' if scripts else '-nojs'}.png", full_page=True)


Check = Callable[[Page, str], None]


def checker(page_at: PageAt, *, javascript: bool) -> Check:
    """assert_accessible, which checks a page without JavaScript through a twin that has it."""
    return assert_accessible


def focused(page: Page) -> dict[str, str]:
    """What has the keyboard's focus: its tag, id, and visible text or label."""
    found: dict[str, str] = page.evaluate(
        """() => {
            const el = document.activeElement;
            const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
            return {
                tag: el.tagName.toLowerCase(),
                id: el.id || "",
                text: (el.innerText || el.value || "").trim(),
                label: label ? label.innerText.trim() : "",
            };
        }"""
    )
    return found


def tab_to(page: Page, *, text: str = "", field_id: str = "") -> None:
    """Presses Tab until the link or button showing `text`, or the box `field_id`, has focus,
    as a keyboard user would; fails if it never does."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        now = focused(page)
        if (field_id and now["id"] == field_id) or (text and now["text"] == text):
            return
    pytest.fail(f"Tab never reached {text or field_id!r} on {page.url}")


def type_into(page: Page, field_id: str, value: str) -> None:
    """Tab to a box, empty it with the keyboard, and type."""
    tab_to(page, field_id=field_id)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Backspace")
    if value:
        page.keyboard.type(value)


def press_enter_and_wait(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def answer(
    page: Page, check: Check, label: str, fields: dict[str, str], *, wrong: dict[str, str]
) -> None:
    """One question page: checked empty; answered wrongly (checked with its error); answered."""
    page_path = path_of(page)
    check(page, f"{label}, empty")
    screenshot(page, f"{label}-empty")

    for field_id, value in {**fields, **wrong}.items():
        type_into(page, field_id, value)
    press_enter_and_wait(page)
    assert path_of(page) == page_path, f"{label}: a wrong answer was accepted"
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert page.title().startswith("Error:")
    check(page, f"{label}, refused")
    screenshot(page, f"{label}-error")

    for field_id, value in fields.items():
        type_into(page, field_id, value)
    check(page, f"{label}, filled")
    press_enter_and_wait(page)
    assert path_of(page) != page_path, f"{label}: the answer was refused: " + (
        page.locator(".govuk-error-summary").inner_text()
        if page.locator(".govuk-error-summary").count()
        else ""
    )


def join_by_keyboard(page: Page, check: Check, personas: Personas) -> None:
    page.goto("/circles/southwark/")
    check(page, "circle page")
    tab_to(page, text="Join as a member")
    press_enter_and_wait(page)

    assert path_of(page) == "/circles/southwark/join/"
    check(page, "join start")
    screenshot(page, "start")
    tab_to(page, text="Start now")
    press_enter_and_wait(page)

    answer(page, check, "name", {"id_full_name": "Dora Dawson"}, wrong={"id_full_name": ""})
    answer(
        page,
        check,
        "date of birth",
        {
            "id_date_of_birth": str(BORN.day),
            "id_date_of_birth_month": str(BORN.month),
            "id_date_of_birth_year": str(BORN.year),
        },
        wrong={"id_date_of_birth_year": str(TOO_YOUNG.year)},
    )
    answer(
        page,
        check,
        "address",
        {"id_address_line1": "12 Tabard Street", "id_postcode": "se1 7pb"},
        wrong={"id_postcode": "EH1 1YZ"},
    )
    answer(page, check, "phone", {"id_phone": "07911 123456"}, wrong={"id_phone": "12345"})
    answer(
        page, check, "email", {"id_email": "dora@example.org"}, wrong={"id_email": "dora at home"}
    )
    answer(
        page,
        check,
        "password",
        {"id_password": NEW_PASSWORD, "id_password_again": NEW_PASSWORD},
        wrong={"id_password_again": "Marigold-Teapot"},
    )

    assert path_of(page) == "/circles/southwark/join/check/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    main = page.locator("main")
    expect(main).to_contain_text("Dora Dawson")
    expect(main).to_contain_text("12 Tabard Street")
    expect(main).to_contain_text("SE1 7PB")
    expect(main).to_contain_text("07911 123456")
    check(page, "check your answers")
    screenshot(page, "check")
    tab_to(page, text="Join")
    press_enter_and_wait(page)

    assert path_of(page) == "/circles/southwark/join/done/"
    expect(page.get_by_role("heading", level=1)).to_have_text("You have joined Southwark Circle")
    check(page, "joined")
    screenshot(page, "done")
    member = Member.objects.get(circle=personas.southwark, email="dora@example.org")
    assert member.full_name == "Dora Dawson"
    assert member.roles.filter(role=RoleName.MEMBER).exists()

    # The next step is paying: by keyboard to the pay page, signed in as the new member.
    tab_to(page, text="Pay for your membership")
    press_enter_and_wait(page)
    assert path_of(page) == "/my/pay/"
    expect(page.locator("main")).to_contain_text("Pay £10.00 by card")
    check(page, "pay")
    screenshot(page, "pay")


@pytest.fixture
def southwark_with_phone(personas: Personas) -> Personas:
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])
    return personas


def test_a_visitor_joins_by_keyboard_alone(
    page: Page, page_at: PageAt, southwark_with_phone: Personas
) -> None:
    join_by_keyboard(page, checker(page_at, javascript=True), southwark_with_phone)


def test_a_visitor_joins_by_keyboard_alone_without_javascript(
    page_without_javascript: Page, page_at: PageAt, southwark_with_phone: Personas
) -> None:
    join_by_keyboard(
        page_without_javascript, checker(page_at, javascript=False), southwark_with_phone
    )
