"""The coordinators' reports and settings in Chromium, at 1280 px and 320 px: Cora reads the
charts, opens a chart's table, chooses another period, then changes the token price (a
negative one first, refused) and a kind of help's vetting, and sees each change in the record.
axe-core checks every state, and nothing may scroll sideways at 320 px.

The history is written through the ledger, so this runs on PostgreSQL.
Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/cr-`) to keep a picture of each state.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from djmoney.money import Money
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from circle.models import Category
from tests.browser.conftest import assert_accessible, assert_no_browser_errors, sign_in
from tests.browser.test_join_journey import screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.conftest import give_tokens, world  # noqa: F401 (a fixture)
from tests.report_history import task_lived

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

REPORTS = "/coordinator/southwark/reports/"
SETTINGS = "/coordinator/southwark/settings/"


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    assert_no_browser_errors(page, label)
    screenshot(page, f"coordinator-reports-{label}")


@pytest.fixture
def history(world: Personas) -> Personas:  # noqa: F811
    give_tokens(world.alice, minutes=1200)
    asked = timezone.now() - timedelta(days=20)
    for i, minutes in enumerate((60, 90, 45)):
        task_lived(
            member=world.alice,
            helper=world.hana_helper,
            asked=asked + timedelta(days=i),
            wait=timedelta(hours=1 + 3 * i),
            minutes=minutes,
        )
    return world


def test_cora_reads_the_reports_and_changes_the_settings(
    page: Page,
    live_server: LiveServer,
    history: Personas,
) -> None:
    sign_in(page, live_server, "cora@example.org", PASSWORD)
    page.goto(REPORTS)
    main = page.locator("main")
    expect(main.locator("h1")).to_have_text("Reports")
    expect(main.locator('svg[role="img"]')).to_have_count(6)
    expect(main.locator("#chart-waits-title")).to_have_text(
        "Hours from asking to accepted, by kind of help"
    )
    check(page, "page")

    # The wait chart's table, opened.
    waits = main.locator("section", has=page.locator("#waits"))
    waits.locator("summary").click()
    expect(waits.locator("table")).to_be_visible()
    expect(waits.locator("tbody tr")).to_have_count(1)
    expect(waits.locator("tbody")).to_contain_text("Gardening")
    check(page, "table-open")

    # Another period.
    page.select_option("#months", "3")
    page.get_by_role("button", name="Show these months").click()
    page.wait_for_url(f"**{REPORTS}?months=3")
    expect(main).to_contain_text("The last 3 months")
    check(page, "three-months")

    page.goto(SETTINGS)
    expect(main).to_contain_text("Nothing has been changed here yet.")
    check(page, "settings")

    # A negative price is refused, with the GOV.UK error summary.
    page.fill("#id_token_price", "-1")
    page.get_by_role("button", name="Save prices and rules").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The token price cannot be less than £0.00.")
    check(page, "settings-refused")

    page.fill("#id_token_price", "12.50")
    page.get_by_role("button", name="Save prices and rules").click()
    expect(main).to_contain_text("The circle's prices and rules are saved.")
    expect(main).to_contain_text("Token price changed from 10.00 to 12.50")
    check(page, "settings-saved")
    history.southwark.refresh_from_db()
    assert history.southwark.token_price == Money("12.50", "GBP")

    # Gardening needs an enhanced check from now on.
    page.get_by_role("link", name="Change Gardening").click()
    expect(main.locator("h1")).to_have_text("Change Gardening")
    check(page, "category")
    page.get_by_label("Enhanced: an enhanced DBS check").check()
    page.get_by_role("button", name="Save").click()
    expect(main).to_contain_text("gardening: vetting changed from basic to enhanced")
    check(page, "category-saved")
    gardening = Category.objects.get(circle=history.southwark, slug="gardening")
    assert gardening.vetting_level == "enhanced"


def test_the_other_states_are_accessible(
    page: Page, live_server: LiveServer, personas: Personas
) -> None:
    sign_in(page, live_server, "cora@example.org", PASSWORD)
    main = page.locator("main")

    # A circle with no history: no wait to draw, said in words.
    page.goto(REPORTS)
    expect(main).to_contain_text("No task was accepted in this period.")
    check(page, "empty")

    # A kind of help with a name already taken, and one with no name.
    page.goto(SETTINGS)
    page.fill("#id_new-name", "Gardening")
    page.get_by_role("button", name="Add this kind of help").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "There is already a kind of help with that name."
    )
    check(page, "category-exists")
    gardening = Category.objects.get(circle=personas.southwark, slug="gardening")
    page.goto(f"{SETTINGS}kinds-of-help/{gardening.pk}/")
    page.fill("#id_name", "")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a name for the kind of help."
    )
    check(page, "category-refused")
