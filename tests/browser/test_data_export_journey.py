"""A member's right of access in Chromium, at 1280 px and 320 px: Alice opens what Circle
holds about her from her home, reads it (axe silent), and downloads it as a JSON file; Otto
opens the same from her caller's card. Each reading is in the audit log.

Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/de-`) to keep a picture of each state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from attention.models import ItemKind
from attention.services import item_raise
from members.models import AuditEvent
from tests.browser.conftest import assert_accessible, assert_no_browser_errors, sign_in
from tests.browser.test_join_journey import screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.conftest import make_active

# Payments and tokens write the ledger.
pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def history(personas: Personas) -> Personas:
    make_active(personas.alice, by=personas.otto, tokens=3, reference="CASH-31")
    item_raise(member=personas.alice, kind=ItemKind.GRACE, cause="g", note="Ring about renewal")
    item_raise(member=personas.alice, kind=ItemKind.SAFEGUARDING, cause="s", note="Bruising")
    return personas


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    assert_no_browser_errors(page, label)
    screenshot(page, f"data-{label}")


def test_alice_reads_and_downloads_what_we_hold(
    page: Page, live_server: LiveServer, history: Personas, tmp_path: Path
) -> None:
    sign_in(page, live_server, "alice@example.org", PASSWORD)
    page.goto("/my/")
    with page.expect_navigation():
        page.get_by_role("link", name="Everything we hold about you").click()
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("What we hold about you")
    expect(main).to_contain_text("CASH-31")
    expect(main).to_contain_text("Ring about renewal")
    expect(main).not_to_contain_text("Bruising")
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    check(page, "member")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download as a file (JSON)").click()
    download = info.value
    assert download.suggested_filename == f"circle-data-{history.alice.pk}.json"
    saved = tmp_path / "data.json"
    download.save_as(saved)
    body = json.loads(saved.read_text())
    assert body["member"]["full_name"] == "Alice Archer"
    assert body["payments"]["payments"][0]["reference"] == "CASH-31"
    assert "Bruising" not in saved.read_text()
    assert list(
        AuditEvent.objects.filter(action="data.exported", member=history.alice)
        .order_by("id")
        .values_list("data__how", flat=True)
    ) == ["page", "file"]


def test_otto_opens_their_data_from_the_card(
    page: Page, live_server: LiveServer, history: Personas
) -> None:
    sign_in(page, live_server, "otto@example.org", PASSWORD)
    page.goto(f"/console/southwark/members/{history.alice.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Their data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What we hold about Alice Archer")
    expect(page.locator("main")).to_contain_text("CASH-31")
    check(page, "console")
    event = AuditEvent.objects.get(action="data.exported")
    assert event.actor == history.otto.user
