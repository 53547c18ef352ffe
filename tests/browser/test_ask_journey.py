"""Alice asks for help by keyboard alone, sees her request, says it has been done once Hana has
done it, and reads her statement: in Chromium at 320 px and 1280 px, with JavaScript and
without, every page checked by axe-core in its empty, filled and error states.

Screenshots of each page go to /tmp/h5-<page>-<width>[-nojs].png, to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from matching.models import HelperPreference, Task, TaskStatus
from matching.services import task_accept, task_book, task_complete
from members.selectors import caller_for
from tests.browser.conftest import (
    assert_accessible,
    sign_in,
)
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.conftest import give_tokens, london, make_active, vet
from tests.matching.tasks_factory import make_task
from tokens.selectors import member_tokens
from tokens.services import hold_create

# Booking, holding and settling write ledger rows: PostgreSQL only (see conftest.py).
pytestmark = pytest.mark.postgres

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e) return ["", "", "", ""];
  const label = e.labels && e.labels.length ? e.labels[0].innerText.trim() : "";
  return [(e.innerText || "").trim(), label, e.getAttribute("name") || "", e.tagName];
}"""
CHECKED = """(name) => {
  const c = document.querySelector(`input[name="${name}"]:checked`);
  return c ? c.labels[0].innerText.trim() : null;
}"""

ALICE_EMAIL = "alice@example.org"


@pytest.fixture
def world(personas: Personas) -> Personas:
    """Alice active with 5 tokens, whom Hana (vetted) helped last week."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    vet(personas.hana_helper, by=personas.cora)
    personas.southwark.phone = "+442079460000"
    personas.southwark.save()
    make_task(
        member=personas.alice,
        status=TaskStatus.SETTLED,
        helper=personas.hana_helper,
        start=timezone.now() - timedelta(days=7),
    )
    for who in (personas.alice, personas.hana_helper):
        who.refresh_from_db()
    return personas


def shot(page: Page, name: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    js = "" if page.evaluate("() => document.body.classList.contains('js-enabled')") else "-nojs"
    # The brief names /tmp/h5-*.png for the screenshots, to look at after a run.
    page.screenshot(path=f"/tmp/h5-{name}-{width}{js}.png", full_page=True)  # noqa: S108


Check = Callable[[Page, str], None]


@pytest.fixture
def check() -> Check:
    """axe-core on the page as it is, nothing sideways, no browser errors (a page without
    JavaScript through assert_accessible's twin); and a screenshot."""

    def run(page: Page, name: str) -> None:
        assert_accessible(page, name)
        shot(page, name)

    return run


def tab_to(page: Page, *, text: str = "", label: str = "", name: str = "", tag: str = "") -> None:
    """Press Tab until the focus is on the element with this text, label or field name (and,
    if given, this tag: "BUTTON", "A")."""
    for _ in range(120):
        page.keyboard.press("Tab")
        inner, labelled, field, focused_tag = page.evaluate(FOCUSED)
        if tag and focused_tag != tag:
            continue
        if (text and inner == text) or (label and labelled == label) or (name and field == name):
            return
    pytest.fail(f"Tab never reached {text or label or name!r} on {page.url}")


def press_enter(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def choose(page: Page, name: str, label: str) -> None:
    """Tab into a group of radios, then Space and the arrow keys until `label` is chosen."""
    tab_to(page, name=name)
    for _ in range(30):
        checked = page.evaluate(CHECKED, name)
        if checked == label:
            return
        page.keyboard.press("Space" if checked is None else "ArrowDown")
    pytest.fail(f"the arrow keys never chose {label!r} on {page.url}")


def continue_(page: Page) -> None:
    tab_to(page, text="Continue")
    press_enter(page)


def ask_by_keyboard(page: Page, world: Personas, check: Check) -> Task:
    """From her home page to her booked request, with an empty answer on the way."""
    page.goto("/my/")
    tab_to(page, text="Ask for help")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for help")
    check(page, "ask-start")
    tab_to(page, text="Start")
    press_enter(page)

    # What kind of help: Continue with nothing chosen first.
    check(page, "ask-what")
    continue_(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose the kind of help you need."
    )
    check(page, "ask-what-error")
    choose(page, "category", "Gardening")
    continue_(page)

    check(page, "ask-job")
    tab_to(page, label="In a few words, what is the job?")
    page.keyboard.type("Trim the hedge")
    tab_to(page, name="details")
    page.keyboard.type("The front hedge, about 5 m. The shears are in the shed.")
    continue_(page)

    check(page, "ask-day")
    choose(page, "day", f"Tomorrow: {london(hour=10):%A} {london(hour=10).day} {london():%B}")
    continue_(page)

    check(page, "ask-time")
    continue_(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the earliest time")
    check(page, "ask-time-error")
    tab_to(page, name="start")
    page.keyboard.type("10am")
    tab_to(page, name="end")
    page.keyboard.type("12pm")
    expect(page.locator("#id_start")).to_have_value("10:00")
    expect(page.locator("#id_end")).to_have_value("12:00")
    continue_(page)

    check(page, "ask-how-long")
    choose(page, "minutes", "1 hour 30 minutes (1.5 tokens)")
    continue_(page)

    check(page, "ask-helper")
    choose(page, "helper", "Hana")
    continue_(page)

    check(page, "ask-repeat")
    choose(page, "repeat", "No, just this once")
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    expect(page.locator("main")).to_contain_text(
        "We will set aside 1 hour 30 minutes (1.5 tokens) until the job is done. "
        "You have 5 hours (5 tokens) available."
    )
    expect(page.locator("main")).to_contain_text("Hana will be your preferred helper")
    check(page, "ask-check")
    tab_to(page, text="Ask for help", tag="BUTTON")
    press_enter(page)

    task = Task.objects.get(title="Trim the hedge")
    assert page.url.endswith(f"/my/requests/{task.pk}/")
    assert HelperPreference.objects.get(member=world.alice).helper == world.hana_helper
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have asked for help.")
    expect(page.locator("main")).to_contain_text("Looking for a helper")
    check(page, "request-open")
    return task


def hana_does_it(world: Personas, task: Task) -> None:
    """Hana accepts the task and reports it done in 1 hour 45 minutes, as a helper would."""
    hana = caller_for(user=world.hana.user, circle=world.southwark)
    task_accept(task=task, helper=world.hana_helper, caller=hana)
    task_complete(task=task, helper=world.hana_helper, caller=hana, minutes=105)


def confirm_by_keyboard(page: Page, task: Task, check: Check) -> None:
    page.reload()
    expect(page.locator("main")).to_contain_text("Hana says the job is done.")
    check(page, "request-completed")
    tab_to(page, text="Say it has been done")
    press_enter(page)
    check(page, "request-confirm")
    # Too long a comment first.
    tab_to(page, name="comment")
    page.keyboard.insert_text("x" * 2001)
    tab_to(page, text="Yes, it has been done")
    press_enter(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Use 2,000 characters or fewer.")
    check(page, "request-confirm-error")
    choose(page, "rating", "Excellent")
    tab_to(page, name="comment")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("Lovely job, thank you.")
    tab_to(page, text="Yes, it has been done")
    press_enter(page)
    assert page.url.endswith(f"/my/requests/{task.pk}/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Thank you. 2 hours (2 tokens) paid for Hana's help."
    )
    expect(page.locator("main")).to_contain_text("You paid 2 hours (2 tokens).")
    check(page, "request-settled")
    task.refresh_from_db()
    assert task.status == TaskStatus.SETTLED
    assert task.feedback.rating == 5


def statement_by_keyboard(page: Page, check: Check) -> None:
    tab_to(page, text="See your tokens and statement")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your tokens")
    expect(page.locator("main")).to_contain_text("You have 3 hours (3 tokens) to spend.")
    expect(page.locator("tbody tr").first).to_contain_text("Paid for 'Trim the hedge'")
    check(page, "tokens")


def test_alice_asks_confirms_and_reads_her_statement_by_keyboard(
    page: Page, live_server: LiveServer, world: Personas, check: Check
) -> None:
    sign_in(page, live_server, ALICE_EMAIL, PASSWORD)
    task = ask_by_keyboard(page, world, check)
    hana_does_it(world, task)
    confirm_by_keyboard(page, task, check)
    statement_by_keyboard(page, check)
    # With JavaScript, the print button is there.
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()


def test_the_same_journey_works_without_javascript(
    page_without_javascript: Page, live_server: LiveServer, world: Personas, check: Check
) -> None:
    page = page_without_javascript
    sign_in(page, live_server, ALICE_EMAIL, PASSWORD)
    task = ask_by_keyboard(page, world, check)
    hana_does_it(world, task)
    confirm_by_keyboard(page, task, check)
    statement_by_keyboard(page, check)
    # Without JavaScript a print button could do nothing, so there is none.
    expect(page.get_by_role("button", name="Print this page")).to_have_count(0)


def _book(world: Personas, **extra: Any) -> Task:
    return task_book(
        member=world.alice,
        caller=caller_for(user=world.alice.user, circle=world.southwark),
        category="gardening",
        title=extra.pop("title", "Sweep the path"),
        window_start=london(hour=14),
        window_end=london(hour=16),
        estimated_minutes=60,
        **extra,
    ).task


def test_the_other_states_of_the_pages_are_accessible(
    page: Page, live_server: LiveServer, world: Personas, check: Check
) -> None:
    # Bob has not paid: the ask page says so; his tokens and helpers pages are empty.
    sign_in(page, live_server, "bob@example.org", PASSWORD)
    page.goto("/my/ask/")
    expect(page.locator("main")).to_contain_text("Your membership is not paid yet")
    check(page, "ask-not-served")
    page.goto("/my/tokens/")
    expect(page.locator("main")).to_contain_text("Nothing yet.")
    check(page, "tokens-empty")
    page.goto("/my/helpers/")
    expect(page.locator("main")).to_contain_text("Nobody yet.")
    check(page, "helpers-empty")
    page.context.clear_cookies()

    sign_in(page, live_server, ALICE_EMAIL, PASSWORD)
    # Her helpers: Hana helped; prefer her, then the page shows her as preferred.
    page.goto("/my/helpers/")
    check(page, "helpers")
    page.get_by_role("button", name="Prefer Hana").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Hana is now your")
    check(page, "helpers-preferred")

    # A request she cancels: the page, its error, and the cancelled request.
    task = _book(world)
    page.goto(f"/my/requests/{task.pk}/cancel/")
    check(page, "request-cancel")
    page.get_by_label("Why are you cancelling? (optional)").fill("x" * 501)
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Use 500 characters or fewer.")
    check(page, "request-cancel-error")
    page.get_by_label("Why are you cancelling? (optional)").fill("My son did it.")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your request is cancelled.")
    check(page, "request-cancelled")

    # An accepted one.
    accepted = _book(world, title="Mow the lawn")
    hana = caller_for(user=world.hana.user, circle=world.southwark)
    task_accept(task=accepted, helper=world.hana_helper, caller=hana)
    page.goto(f"/my/requests/{accepted.pk}/")
    expect(page.locator("main")).to_contain_text("Hana is coming")
    check(page, "request-accepted")

    # Check your answers: the tokens run out between the page and the button.
    page.goto("/my/ask/")
    for step, answer in (
        ("what", lambda: page.get_by_label("Odd jobs").check()),
        ("job", lambda: page.get_by_label("In a few words, what is the job?").fill("Shelf")),
        ("day", lambda: page.get_by_label("Tomorrow", exact=False).check()),
        ("time", lambda: page.select_option("#id_start", "09:00")),
        ("how-long", lambda: page.get_by_label("2 hours (2 tokens)").check()),
        ("helper", lambda: page.get_by_label("No preference", exact=False).check()),
        ("repeat", lambda: page.get_by_label("Yes, every two weeks").check()),
    ):
        page.goto(f"/my/ask/{step}/")
        answer()
        if step == "time":
            page.select_option("#id_end", "12:00")
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    check(page, "ask-check-repeat")
    left = member_tokens(member=world.alice).available
    hold_create(member=world.alice, minutes=left - 30, reference="elsewhere", actor=None)
    page.get_by_role("button", name="Ask for help").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    check(page, "ask-check-error")
    # Not enough left: the page says so, with a way to buy tokens instead of the button.
    expect(page.locator("main")).to_contain_text("You do not have enough tokens for this.")
    expect(page.get_by_role("button", name="Buy tokens")).to_be_visible()
    check(page, "ask-check-not-enough")

    # A long statement, paged.
    for n in range(40):
        give_tokens(world.alice, minutes=30, key=f"browser-{n}")
    page.goto("/my/tokens/?page=2")
    expect(page.locator("main")).to_contain_text("Page 2 of 2")
    check(page, "tokens-page-2")
