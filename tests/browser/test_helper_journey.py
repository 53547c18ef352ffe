"""A helper on a phone, in Chromium at 360 px (and at 1280 px, for a desk): vetted by the
coordinator through the API, Hana sees her feed (empty, then with Alice's hedge), opens the
task, accepts it in one tap, sees the address and a phone number to tap, and reports it done
with the minutes, the billing shown before she confirms; then her own tasks. axe-core checks
every page in every state. And the race: Hana and Ivy, in two browsers, press accept together;
exactly one gets the task, the other reads "Someone else has just taken this".

Set CIRCLE_SCREENSHOTS to a path prefix to keep pictures of each page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from matching.models import Task, TaskStatus
from members.models import RoleName
from tests.browser.conftest import PageAt, Width, assert_accessible, sign_in
from tests.browser.test_join_journey import path_of, screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD, HelperFactory, MemberFactory
from tests.matching.conftest import make_active, new_helper
from tests.web.helper_world import book, take

# Booking, holding and settling write ledger rows: PostgreSQL only (see conftest.py).
pytestmark = pytest.mark.postgres

# WCAG 2.5.5's size, which the brief asks of every main action on a helper's page.
THUMB_PX = 44
HANA_EMAIL = "hana@example.org"
# The buttons' words, with the typographic apostrophe the page shows.
DONE = "I\u2019ve done it"
CANT = "I can\u2019t do it after all"


@pytest.fixture
def southwark(personas: Personas, client_for: Any) -> Personas:
    """Alice active with 5 tokens; Southwark's phone; Hana vetted by Cora through the API."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])
    response = client_for(personas.cora).post(
        f"/api/v1/helpers/{personas.hana_helper.pk}/vetting/",
        {
            "identity_checked": True,
            "references_checked": True,
            "dbs_level": "basic",
            "dbs_certificate_number": "001234567890",
            "dbs_issue_date": "2025-01-15",
            "original_seen_by": "Cora Coordinator",
        },
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    personas.alice.refresh_from_db()
    return personas


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    screenshot(page, f"helper-{label}")


def assert_thumb_sized(page: Page, name: str) -> None:
    box = page.get_by_role("button", name=name).bounding_box()
    assert box is not None, name
    assert box["height"] >= THUMB_PX, f"{name!r} is {box['height']}px tall"


@pytest.mark.parametrize("width", [360, 1280], ids=["360px", "1280px"])
def test_hana_takes_a_task_and_reports_it_done(
    southwark: Personas, live_server: LiveServer, page_at: PageAt, width: Width
) -> None:
    page = page_at(width)
    sign_in(page, live_server, HANA_EMAIL, PASSWORD)
    # (Signing in does not yet send each person to landing_for's page: the feed is opened.)
    page.goto("/helper/")
    expect(page.locator("main")).to_contain_text("Nothing near you just now")
    check(page, "feed-empty")

    task = book(southwark.alice)
    page.reload()
    expect(page.locator("main")).to_contain_text("1 task you can take")
    expect(page.locator("main")).to_contain_text("You earn about 1 hour 30 minutes (1.5 tokens)")
    check(page, "feed")

    with page.expect_navigation():
        page.get_by_role("link", name="Trim the hedge").click()
    assert path_of(page) == f"/helper/tasks/{task.pk}/"
    main = page.locator("main")
    expect(main).to_contain_text("SE1, 0.0 km away")
    expect(main).not_to_contain_text(southwark.alice.address_line1)
    expect(page.locator("a[href^='tel:+44770']")).to_have_count(0)
    if width == 360:
        assert_thumb_sized(page, "Accept this task")
    check(page, "task-open")

    with page.expect_navigation():
        page.get_by_role("button", name="Accept this task").click()
    expect(main).to_contain_text("You have accepted it. We will tell Alice you are coming.")
    expect(main).to_contain_text(southwark.alice.address_line1)
    call = page.get_by_role("button", name="Call Alice on 07700 900001")
    expect(call).to_have_attribute("href", "tel:+447700900001")
    if width == 360:
        assert_thumb_sized(page, "Call Alice on 07700 900001")
        assert_thumb_sized(page, DONE)
        assert_thumb_sized(page, CANT)
    check(page, "task-accepted")

    with page.expect_navigation():
        page.get_by_role("button", name=DONE).click()
    check(page, "done")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter how many minutes the job took."
    )
    check(page, "done-error")
    page.get_by_label("How many minutes did it take?").fill("40")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(main).to_contain_text("You did 40 minutes; this is billed as 1 hour (1 token).")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACCEPTED  # nothing written yet
    check(page, "done-check")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm it is done").click()
    expect(main).to_contain_text("Thank you. We have asked Alice to confirm it.")
    expect(main).to_contain_text("Waiting for confirmation")
    check(page, "task-done")
    done = Task.objects.get(pk=task.pk)
    assert (done.status, done.minutes_reported, done.minutes_billed) == ("completed", 40, 60)

    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():  # on a phone the menu folds away behind its button
        menu.click()
    with page.expect_navigation():
        page.get_by_role("link", name="Mine").click()
    expect(main).to_contain_text("Waiting for the member to confirm")
    expect(main).to_contain_text("Trim the hedge")
    check(page, "mine")


def test_two_helpers_press_accept_together_and_one_wins(
    southwark: Personas, live_server: LiveServer, page_at: PageAt
) -> None:
    ivy = new_helper(southwark, "Ivy")
    task = book(southwark.alice)
    pages = []
    for email in (HANA_EMAIL, "ivy@example.org"):
        page = page_at(360)
        sign_in(page, live_server, email, PASSWORD)
        page.goto(f"/helper/tasks/{task.pk}/")
        pages.append(page)

    # Both taps leave before either answer comes back.
    for page in pages:
        page.get_by_role("button", name="Accept this task").click(no_wait_after=True)
    answered = re.compile("You have accepted it|Someone else has just taken this")
    for page in pages:
        expect(page.locator("main")).to_contain_text(answered, timeout=15_000)

    said = [page.locator("main").inner_text() for page in pages]
    won = [i for i, text in enumerate(said) if "You have accepted it." in text]
    lost = [i for i, text in enumerate(said) if "Someone else has just taken this" in text]
    assert (len(won), len(lost)) == (1, 1), said
    winner = Task.objects.get(pk=task.pk).helper_id
    assert winner == (southwark.hana_helper.pk, ivy.pk)[won[0]]
    loser = pages[lost[0]]
    expect(loser.locator("main")).not_to_contain_text(southwark.alice.address_line1)
    check(loser, "task-taken")


def test_the_open_feed_refreshes_itself(
    southwark: Personas, live_server: LiveServer, page_at: PageAt
) -> None:
    page = page_at(360)
    page.clock.install()  # the page's timers run when the test says, not by waiting
    sign_in(page, live_server, HANA_EMAIL, PASSWORD)
    page.goto("/helper/")
    expect(page.locator("main")).to_contain_text("Nothing near you just now")

    book(southwark.alice)
    page.clock.fast_forward("01:01")

    expect(page.locator("#feed")).to_contain_text("Trim the hedge")
    expect(page.locator("#feed-status")).to_contain_text("The tasks were updated at")
    check(page, "feed-refreshed")


def test_hana_hands_a_task_back_and_an_unvetted_helper_is_told_why_the_feed_is_empty(
    southwark: Personas, live_server: LiveServer, page_at: PageAt
) -> None:
    task = book(southwark.alice)
    take(task, southwark, status=TaskStatus.ACCEPTED)
    page = page_at(360)
    sign_in(page, live_server, HANA_EMAIL, PASSWORD)
    page.goto(f"/helper/tasks/{task.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name=CANT).click()
    check(page, "hand-back")
    with page.expect_navigation():
        page.get_by_role("button", name="Hand it back").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why you cannot do it.")
    check(page, "hand-back-error")
    page.get_by_label("Why can you not do it?").fill("My car broke down")
    with page.expect_navigation():
        page.get_by_role("button", name="Hand it back").click()
    assert path_of(page) == "/helper/"
    expect(page.locator("main")).to_contain_text("We will offer it to other helpers.")
    check(page, "handed-back")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN

    newcomer = MemberFactory(circle=southwark.southwark, roles=[RoleName.HELPER])
    HelperFactory(member=newcomer)
    other = page_at(360)
    sign_in(other, live_server, str(newcomer.email), PASSWORD)
    other.goto("/helper/")
    expect(other.locator("main")).to_contain_text("Your checks are not done yet")
    check(other, "feed-not-vetted")
