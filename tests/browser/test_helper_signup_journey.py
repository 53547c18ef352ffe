"""Becoming a helper on a phone (360 x 640, touch), and the same at a desk's 1280 px: from the
circle's page through each short question (each also refused once) and "Check your answers" to
the profile, which says what happens next and that the checks are not done yet. A coordinator
then records the checks through the API, and the profile shows them done. Then the helper
changes when they can help, pauses and resumes. axe-core checks every page and error state; the
main actions are at least 44 px tall.

Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/hjoin-`) to keep a picture of each page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from helpers.models import Helper
from members.models import AuditEvent
from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import Personas
from tests.factories import PASSWORD

NEW_PASSWORD = "Marigold-Teapot-1947"
PHONE = {"width": 360, "height": 640}


@pytest.fixture(params=[360, 1280], ids=["phone-360px", "desk-1280px"])
def page(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Iterator[Page]:
    """A fresh browser context: a touch phone 360 px wide, or a desk 1280 px wide."""
    width: int = request.param
    context: BrowserContext = browser.new_context(
        viewport=PHONE if width == 360 else {"width": 1280, "height": 900},
        device_scale_factor=1,
        has_touch=width == 360,
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    yield context.new_page()
    context.close()


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def tap(page: Page, target: Any) -> None:
    """A thumb on a phone, a click at a desk."""
    if page.context.browser and page.viewport_size and page.viewport_size["width"] < 400:
        target.tap()
    else:
        target.click()


def shot(page: Page, label: str) -> None:
    prefix = os.environ.get("CIRCLE_SCREENSHOTS", "")
    if prefix:
        width = page.viewport_size["width"] if page.viewport_size else 0
        page.screenshot(path=f"{prefix}{label}-{width}.png", full_page=True)


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    shot(page, label)


def press(page: Page, name: str) -> None:
    """Taps the page's button (or link styled as one) named `name`, which must be a thumb's
    target: at least 44 px tall."""
    button = page.get_by_role("button", name=name, exact=True)
    if not button.count():
        button = page.get_by_role("link", name=name, exact=True)
    box = button.first.bounding_box()
    assert box is not None
    assert box["height"] >= 44, f"{name!r} is {box['height']}px tall on {page.url}"
    with page.expect_navigation():
        tap(page, button.first)


def refused(page: Page, label: str, said: str) -> None:
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_contain_text(said)
    assert page.title().startswith("Error:")
    check(page, f"{label}-error")


def question(
    page: Page,
    label: str,
    fill: Callable[[], None],
    *,
    wrong: Callable[[], None] | None = None,
    said: str = "",
) -> None:
    here = path_of(page)
    check(page, label)
    if wrong is not None:
        wrong()
        press(page, "Continue")
        assert path_of(page) == here
        refused(page, label, said)
    fill()
    press(page, "Continue")
    assert path_of(page) != here, page.locator("main").inner_text()


def typed(page: Page, field: str, value: str) -> Callable[[], None]:
    def fill() -> None:
        box = page.locator(f"#{field}")
        box.fill("")
        box.press_sequentially(value)

    return fill


def ticked(page: Page, *labels: str, untick: bool = False) -> Callable[[], None]:
    def fill() -> None:
        for label in labels:
            box = page.get_by_label(label, exact=True)
            if box.is_checked() == untick:
                tap(page, page.locator(f"label[for='{box.get_attribute('id')}']"))

    return fill


def test_a_new_person_becomes_a_helper_is_vetted_and_pauses(
    page: Page, personas: Personas, client_for: Any
) -> None:
    page.goto("/circles/southwark/")
    with page.expect_navigation():
        tap(page, page.get_by_role("link", name="Become a helper"))
    assert path_of(page) == "/circles/southwark/helpers/join/"
    check(page, "start")
    press(page, "Start now")

    question(
        page,
        "name",
        typed(page, "id_full_name", "Harriet Hill"),
        wrong=typed(page, "id_full_name", ""),
        said="Enter your full name.",
    )
    question(
        page,
        "phone",
        typed(page, "id_phone", "07911 123456"),
        wrong=typed(page, "id_phone", "12345"),
        said="Enter a UK phone number",
    )
    question(
        page,
        "email",
        typed(page, "id_email", "harriet@example.org"),
        wrong=typed(page, "id_email", "alice@example.org"),
        said="already a Circle login",
    )

    def password() -> None:
        typed(page, "id_password", NEW_PASSWORD)()
        typed(page, "id_password_again", NEW_PASSWORD)()

    question(page, "password", password)
    question(page, "kind", ticked(page, "As a volunteer"))
    question(
        page,
        "skills",
        ticked(page, "Gardening", "Shopping"),
        wrong=lambda: None,
        said="Choose at least one kind of help",
    )
    expect(page.locator("main")).not_to_contain_text("Needs an enhanced")  # now on the next page

    def area(postcode: str) -> Callable[[], None]:
        def fill() -> None:
            typed(page, "id_postcode", postcode)()
            ticked(page, "Up to 3 km")()

        return fill

    question(page, "area", area("SE1 7PB"), wrong=area("IP1 2AN"), said="outside the area")

    def monday() -> None:
        ticked(page, "Monday")()
        page.select_option("#id_day0_start", "09:00")
        page.select_option("#id_day0_end", "12:00")

    question(page, "availability", monday, wrong=lambda: None, said="Choose the days")

    assert path_of(page) == "/circles/southwark/helpers/join/check/"
    main = page.locator("main")
    for words in ("Harriet Hill", "07911 123456", "Gardening", "Up to 3 km", "Monday, 9am to 12pm"):
        expect(main).to_contain_text(words)
    check(page, "check")
    press(page, "Sign up as a helper")

    assert path_of(page) == "/helper/profile/"
    expect(main).to_contain_text("You have signed up as a helper with Southwark Circle.")
    expect(main).to_contain_text("Your checks are not done yet.")
    expect(main).to_contain_text("What happens next")
    expect(main.locator(".govuk-tag", has_text="Not done yet")).to_have_count(3)
    check(page, "profile-new")

    # A coordinator records the checks, through the API.
    helper = Helper.objects.get(member__email="harriet@example.org")
    vetted = client_for(personas.cora).post(
        f"/api/v1/helpers/{helper.pk}/vetting/",
        {
            "identity_checked": True,
            "references_checked": True,
            "dbs_level": "enhanced",
            "dbs_certificate_number": "001234567890",
            "dbs_issue_date": "2026-01-05",
            "original_seen_by": "Cora Coordinator",
        },
        format="json",
    )
    assert vetted.status_code == 200, vetted.json()

    page.reload()
    expect(main).to_contain_text("Your checks are done: you can take every kind of help.")
    expect(main.locator(".govuk-tag", has_text="Done")).to_have_count(2)
    expect(main).to_contain_text("Enhanced DBS")
    expect(main).not_to_contain_text("What happens next")
    check(page, "profile-vetted")

    # When they can help, changed from the profile (refused once: Tuesday with no times).
    with page.expect_navigation():
        tap(page, page.get_by_role("link", name="Change when you can help"))
    check(page, "availability-change")
    ticked(page, "Tuesday")()
    press(page, "Save")
    refused(page, "availability-change", "Choose the time you can start on Tuesday.")
    page.select_option("#id_day1_start", "13:00")
    page.select_option("#id_day1_end", "16:30")
    press(page, "Save")
    expect(main).to_contain_text("Tuesday, 1pm to 4:30pm")

    press(page, "I'm not taking tasks for now")
    expect(main).to_contain_text("You are not taking tasks for now")
    check(page, "profile-paused")
    helper.refresh_from_db()
    assert helper.paused

    press(page, "Resume: I'm taking tasks again")
    expect(main).to_contain_text("Welcome back: you are taking tasks again.")
    check(page, "profile-resumed")
    helper.refresh_from_db()
    assert not helper.paused
    actions = list(
        AuditEvent.objects.filter(member=helper.member)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "helper.signed_up",
        "helper.vetted",
        "helper.profile_updated",
        "helper.paused",
        "helper.resumed",
    ]


def test_the_availability_editor_works_without_javascript(
    browser: Browser, live_server: LiveServer, personas: Personas
) -> None:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=1,
        java_script_enabled=False,
        base_url=live_server.url,
        locale="en-GB",
    )
    try:
        page = context.new_page()
        sign_in(page, live_server, "hana@example.org", PASSWORD)
        page.goto("/helper/profile/availability/")
        # Without scripts every day's times are shown, ready to choose.
        expect(page.locator("#id_day2_start")).to_be_visible()
        assert_accessible(page, "availability without JavaScript")
        shot(page, "availability-nojs")
        page.get_by_label("Wednesday", exact=True).check()
        page.select_option("#id_day2_start", "10:00")
        page.select_option("#id_day2_end", "11:30")
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()
        # Hana could help any time; without scripts that box does not untick itself.
        expect(page.locator(".govuk-error-summary")).to_contain_text("not both")
        assert_accessible(page, "availability without JavaScript, refused")
        shot(page, "availability-nojs-error")
        page.get_by_label("Any day, at any time", exact=True).uncheck()
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()

        assert path_of(page) == "/helper/profile/"
        expect(page.locator("main")).to_contain_text("Wednesday, 10am to 11:30am")
        assert_accessible(page, "profile without JavaScript")
    finally:
        context.close()
