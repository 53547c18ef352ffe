"""The coordinators' helpers and feedback in Chromium, at 1280 px (a desk) and 320 px: Cora
finds Hana waiting for her checks, records them (first with a wrong certificate number,
refused beside the field), and Hana, signed in in another browser, sees her feed change from
"Your checks are not done yet" to Alice's task. Cora then suspends Hana (a reason is needed,
on a page that asks for it), Hana's feed says so, and Cora reinstates her. Last, the feedback
page with a low rating, marked in words, and its filter. axe-core checks every page and state.

Booking Alice's task holds tokens (ledger rows): PostgreSQL only (see conftest.py).
Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/ch-`) to keep a picture of each state.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from helpers.models import Helper, VettingCheck
from matching.models import Feedback, TaskStatus
from members.models import AuditEvent
from tests.browser.conftest import PageAt, Width, assert_accessible, sign_in
from tests.browser.test_join_journey import path_of, screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.conftest import make_active, new_helper
from tests.matching.tasks_factory import make_task
from tests.web.helper_world import book

pytestmark = pytest.mark.postgres

HELPERS = "/coordinator/southwark/helpers/"
FEEDBACK = "/coordinator/southwark/feedback/"


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    screenshot(page, f"coordinator-helpers-{label}")


@pytest.fixture
def southwark(personas: Personas) -> Personas:
    """Alice active with 5 tokens and her hedge booked for tomorrow; Hana, two doors away,
    signed up but not yet checked."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])
    personas.alice.refresh_from_db()
    book(personas.alice, title="Trim the hedge")
    return personas


def submit(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


@pytest.mark.parametrize("width", [1280, 320], ids=["1280px", "320px"])
def test_cora_records_hanas_checks_and_hanas_feed_shows_tasks(
    southwark: Personas, live_server: LiveServer, page_at: PageAt, width: Width
) -> None:
    hana_page = page_at(width)
    sign_in(hana_page, live_server, "hana@example.org", PASSWORD)
    hana_page.goto("/helper/")
    expect(hana_page.locator("main")).to_contain_text("Your checks are not done yet")
    expect(hana_page.locator("main")).not_to_contain_text("Trim the hedge")
    check(hana_page, "hana-feed-unchecked")

    cora = page_at(width)
    sign_in(cora, live_server, "cora@example.org", PASSWORD)
    cora.goto(HELPERS)
    main = cora.locator("main")
    expect(main).to_contain_text("Waiting for checks (1)")
    check(cora, "list")

    with cora.expect_navigation():
        cora.get_by_role("link", name="Hana Hughes").click()
    expect(main).to_contain_text("No checks recorded yet")
    expect(main).to_contain_text("No: waiting for checks")
    check(cora, "record-unchecked")

    with cora.expect_navigation():
        cora.get_by_role("button", name="Record checks").click()
    assert path_of(cora) == f"{HELPERS}{southwark.hana_helper.pk}/checks/"
    check(cora, "checks-form")

    cora.get_by_label("Identity checked").check()
    cora.get_by_label("References checked").check()
    cora.get_by_label("Basic DBS").check()
    cora.get_by_label("DBS certificate number").fill("1234")
    cora.get_by_label("Day").fill("15")
    cora.get_by_label("Month").fill("1")
    cora.get_by_label("Year").fill("2025")
    cora.get_by_label("Who saw the original certificate").fill("Cora Coordinator")
    submit(cora, "Record these checks")
    expect(cora.locator(".govuk-error-summary")).to_contain_text(
        "A DBS certificate number has 12 digits."
    )
    expect(cora.locator("#id_dbs_certificate_number-error")).to_contain_text("12 digits")
    assert cora.title().startswith("Error:")
    check(cora, "checks-refused")
    assert not VettingCheck.objects.exists()

    cora.get_by_label("DBS certificate number").fill("0012 3456 7890")
    submit(cora, "Record these checks")
    assert path_of(cora) == f"{HELPERS}{southwark.hana_helper.pk}/"
    expect(main).to_contain_text("Checks recorded. Hana Hughes's vetting level is now Basic.")
    expect(main).to_contain_text("Due again")
    expect(main).to_contain_text("15 January 2028")
    check(cora, "record-checked")

    hana_page.reload()
    expect(hana_page.locator("main")).to_contain_text("Trim the hedge")
    expect(hana_page.locator("main")).not_to_contain_text("Your checks are not done yet")
    check(hana_page, "hana-feed-checked")

    # Suspend: the button leads to a page that asks why; without a reason, refused.
    with cora.expect_navigation():
        cora.get_by_role("button", name="Suspend").click()
    expect(main).to_contain_text("Suspend Hana Hughes?")
    check(cora, "suspend-confirm")
    submit(cora, "Suspend Hana Hughes")
    expect(cora.locator(".govuk-error-summary")).to_contain_text("Say why.")
    check(cora, "suspend-refused")
    cora.get_by_label("Why?").fill("A member said she was rude on the phone.")
    submit(cora, "Suspend Hana Hughes")
    expect(main).to_contain_text("Hana Hughes is suspended")
    expect(main).to_contain_text("Why: A member said she was rude on the phone.")
    check(cora, "record-suspended")

    hana_page.reload()
    expect(hana_page.locator("main")).to_contain_text("A coordinator has stopped offering you")
    expect(hana_page.locator("main")).not_to_contain_text("Trim the hedge")
    check(hana_page, "hana-feed-suspended")

    with cora.expect_navigation():
        cora.get_by_role("button", name="Reinstate").click()
    expect(main).to_contain_text("Reinstate Hana Hughes?")
    check(cora, "reinstate-confirm")
    cora.get_by_label("Why?").fill("Talked it through with both of them.")
    submit(cora, "Reinstate Hana Hughes")
    expect(main).to_contain_text("Hana Hughes is reinstated")
    expect(main).to_contain_text("Reinstated")
    check(cora, "record-reinstated")

    hana_page.reload()
    expect(hana_page.locator("main")).to_contain_text("Trim the hedge")

    hana = Helper.objects.get(pk=southwark.hana_helper.pk)
    assert (hana.vetting_level, hana.suspended) == ("basic", False)
    actions = set(AuditEvent.objects.filter(member=southwark.hana).values_list("action", flat=True))
    assert {"helper.vetted", "helper.suspended", "helper.reinstated"} <= actions

    # The list's other states.
    cora.goto(f"{HELPERS}?show=vetted")
    expect(main).to_contain_text("Vetted: 1 helper")
    check(cora, "list-vetted")
    cora.goto(f"{HELPERS}?show=suspended")
    expect(main).to_contain_text("No helper is in this group.")
    check(cora, "list-empty-filter")


@pytest.mark.parametrize("width", [1280, 320], ids=["1280px", "320px"])
def test_the_feedback_page_marks_a_low_rating_and_filters(
    southwark: Personas, live_server: LiveServer, page_at: PageAt, width: Width
) -> None:
    gus = new_helper(southwark, "Gus")
    hana = southwark.hana_helper
    for helper, rating, words in (
        (hana, 5, "Lovely, and on time."),
        (gus, 1, "He never came and did not ring."),
    ):
        task = make_task(member=southwark.alice, status=TaskStatus.SETTLED, helper=helper)
        Feedback.objects.create(
            circle=southwark.southwark, task=task, helper=helper, rating=rating, comment=words
        )

    cora = page_at(width)
    sign_in(cora, live_server, "cora@example.org", PASSWORD)
    cora.goto(FEEDBACK)
    main = cora.locator("main")
    expect(main).to_contain_text("Low rating Rating: 1 out of 5")
    expect(main).to_contain_text("Rating: 5 out of 5")
    check(cora, "feedback")

    cora.get_by_label("Only low ratings (1 or 2)").check()
    submit(cora, "Show feedback")
    expect(main).to_contain_text("He never came")
    expect(main).not_to_contain_text("Lovely, and on time.")
    check(cora, "feedback-low")

    cora.get_by_label("Only low ratings (1 or 2)").uncheck()
    cora.get_by_label("Helper").select_option(label="Hana Hughes")
    submit(cora, "Show feedback")
    expect(main).to_contain_text("Feedback on Hana Hughes")
    expect(main).not_to_contain_text("He never came")
    check(cora, "feedback-by-helper")

    cora.get_by_label("Helper").select_option(label="Gus Helper")
    cora.get_by_label("Only low ratings (1 or 2)").check()
    submit(cora, "Show feedback")
    with cora.expect_navigation():
        cora.get_by_role("link", name="Gus Helper").click()
    assert path_of(cora) == f"{HELPERS}{gus.pk}/"
    expect(main).to_contain_text("1.0 out of 5 on average, from 1 rating")
    expect(main).to_contain_text("He never came and did not ring.")
    check(cora, "record-with-feedback")

    cora.goto(f"{FEEDBACK}?low=on&helper={hana.pk}")
    expect(main).to_contain_text("No low ratings. Good.")
    check(cora, "feedback-none")


@pytest.mark.parametrize("width", [1280, 320], ids=["1280px", "320px"])
def test_checks_and_a_suspension_work_without_javascript(
    southwark: Personas, live_server: LiveServer, page_at: PageAt, width: Width
) -> None:
    cora = page_at(width, javascript=False)
    sign_in(cora, live_server, "cora@example.org", PASSWORD)
    hana = southwark.hana_helper
    main = cora.locator("main")

    cora.goto(f"{HELPERS}{hana.pk}/checks/")
    cora.get_by_label("Identity checked").check()
    cora.get_by_label("Enhanced DBS").check()
    submit(cora, "Record these checks")
    expect(cora.locator(".govuk-error-summary")).to_contain_text(
        "A DBS certificate number has 12 digits."
    )
    check(cora, "nojs-checks-refused")
    cora.get_by_label("DBS certificate number").fill("001234567890")
    cora.get_by_label("Day").fill("2")
    cora.get_by_label("Month").fill("3")
    cora.get_by_label("Year").fill("2024")
    cora.get_by_label("Who saw the original certificate").fill("Cora Coordinator")
    submit(cora, "Record these checks")
    # References were not checked, so the level stays None, and the page says why.
    expect(main).to_contain_text("vetting level is None: they cannot take tasks until")
    check(cora, "nojs-record-level-none")

    cora.goto(f"{HELPERS}{hana.pk}/suspend/")
    cora.get_by_label("Why?").fill("Waiting for a second reference.")
    submit(cora, "Suspend Hana Hughes")
    expect(main).to_contain_text("Hana Hughes is suspended")
    check(cora, "nojs-record-suspended")
    cora.goto(f"{HELPERS}?show=suspended")
    expect(main).to_contain_text("Suspended: 1 helper")
    check(cora, "nojs-list-suspended")
