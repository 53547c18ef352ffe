"""Otto, an operator on the phone to Alice, keyboard only: opens her card, books help for her
(every question on one page, a mistake first, then the check step), cancels a request, confirms
one Hana has done, and changes her phone number; Alice then reads it all on her "What staff
have done for you" page. In Chromium at 320 px and 1280 px, every page and error state checked
by axe-core.

Screenshots of each page go to /tmp/ccard-<page>-<width>.png, to look at.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from matching.models import Task, TaskStatus
from matching.services import task_accept, task_book, task_complete
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.conftest import london, make_active, vet

# Booking, cancelling and confirming write ledger rows: PostgreSQL only (see conftest.py).
pytestmark = pytest.mark.postgres

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e) return ["", "", "", ""];
  const label = e.labels && e.labels.length ? e.labels[0].innerText.trim() : "";
  return [(e.innerText || "").trim(), label, e.getAttribute("name") || "", e.tagName];
}"""


@pytest.fixture
def world(personas: Personas) -> Personas:
    """Alice active with 5 tokens, with a mowing Hana (vetted) has done and a shelf she no
    longer needs; Bob joined but not paid."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    vet(personas.hana_helper, by=personas.cora)
    alice = caller_for(user=personas.alice.user, circle=personas.southwark)
    hana = caller_for(user=personas.hana.user, circle=personas.southwark)

    def book(title: str, hour: int) -> Task:
        return task_book(
            member=personas.alice,
            caller=alice,
            category="odd-jobs",
            title=title,
            window_start=london(hour=hour),
            window_end=london(hour=hour + 2),
            estimated_minutes=60,
        ).task

    mowing = book("Mow the lawn", 14)
    task_accept(task=mowing, helper=personas.hana_helper, caller=hana)
    task_complete(task=mowing, helper=personas.hana_helper, caller=hana, minutes=60)
    book("Put up a shelf", 16)
    personas.alice.refresh_from_db()
    return personas


Check = Callable[[Page, str], None]


@pytest.fixture
def check() -> Check:
    def run(page: Page, name: str) -> None:
        assert_accessible(page, name)
        width = page.viewport_size["width"] if page.viewport_size else 0
        page.screenshot(path=f"/tmp/ccard-{name}-{width}.png", full_page=True)  # noqa: S108

    return run


def tab_to(page: Page, *, text: str = "", name: str = "", tag: str = "") -> None:
    """Tab until the focus is on the element whose text starts with `text`, or the field
    named `name` (and, if given, of this tag)."""
    for _ in range(150):
        page.keyboard.press("Tab")
        inner, _label, field, focused_tag = page.evaluate(FOCUSED)
        if tag and focused_tag != tag:
            continue
        # A link's visually hidden words ("Cancel<span>: Mow the lawn</span>") read as one.
        inner = " ".join(inner.split()).replace(" :", ":")
        if (text and inner.startswith(text)) or (name and field == name):
            return
    pytest.fail(f"Tab never reached {text or name!r} on {page.url}")


def press_enter(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page: Page, name: str, words: str) -> None:
    tab_to(page, name=name)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(words)


def pick(page: Page, name: str, words: str, value: str) -> None:
    """A drop-down list chosen the keyboard's way: focus it, type the start of the choice."""
    tab_to(page, name=name)
    page.keyboard.type(words)
    expect(page.locator(f"select[name={name}]")).to_have_value(value)


def test_otto_serves_alice_by_keyboard(
    page: Page, live_server: LiveServer, world: Personas, check: Check
) -> None:
    sign_in(page, live_server, "otto@example.org", PASSWORD)
    card = f"/console/southwark/members/{world.alice.pk}/"
    page.goto(card)
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Archer")
    expect(page.locator("main")).to_contain_text("3 hours (3 tokens)")
    check(page, "card")

    # Book help: the button first, with nothing filled in.
    tab_to(page, text="Book help", tag="A")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Book help")
    check(page, "book")
    tab_to(page, text="Check the booking", tag="BUTTON")
    press_enter(page)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the call reference")
    expect(summary).to_contain_text("Choose the kind of help you need.")
    check(page, "book-error")

    type_into(page, "call_reference", "CALL-100")
    pick(page, "category", "Garden", "gardening")
    type_into(page, "title", "Trim the hedge")
    type_into(page, "details", "The shears are in the shed.")
    pick(page, "day", "Tomorrow", london().date().isoformat())
    pick(page, "start", "10am", "10:00")
    pick(page, "end", "12pm", "12:00")
    pick(page, "minutes", "1 hour 3", "90")
    tab_to(page, text="Check the booking", tag="BUTTON")
    press_enter(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the booking")
    expect(page.locator("main")).to_contain_text(
        "Booking sets aside 1 hour 30 minutes (1.5 tokens) of Alice's tokens until the job is "
        "done. Alice has 3 hours (3 tokens) available."
    )
    check(page, "book-check")
    tab_to(page, text="Book help", tag="BUTTON")
    press_enter(page)
    assert page.url.endswith(card)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Help is booked for Alice Archer"
    )
    expect(page.locator("main")).to_contain_text("Trim the hedge")
    check(page, "card-booked")
    hedge = Task.objects.get(title="Trim the hedge")
    assert hedge.hold.minutes == 90
    booked = AuditEvent.objects.get(action="task.booked", data__task_id=hedge.pk)
    assert (booked.actor, booked.call_reference) == (world.otto.user, "CALL-100")

    # Cancel the shelf: the reason left out first. The call reference is offered again.
    tab_to(page, text="Cancel: Put up a shelf")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel this request?")
    expect(page.locator("input[name=call_reference]")).to_have_value("CALL-100")
    check(page, "cancel")
    tab_to(page, text="Yes, cancel it")
    press_enter(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Say why the request is cancelled."
    )
    check(page, "cancel-error")
    type_into(page, "reason", "Her grandson put it up.")
    tab_to(page, text="Yes, cancel it")
    press_enter(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "“Put up a shelf” is cancelled."
    )
    assert Task.objects.get(title="Put up a shelf").status == TaskStatus.CANCELLED

    # Confirm the mowing, with her rating.
    tab_to(page, text="Confirm done: Mow the lawn")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the job was done")
    check(page, "confirm")
    tab_to(page, name="rating")
    page.keyboard.press("Space")
    expect(page.locator("input[name=rating]:checked")).to_have_value("5")
    type_into(page, "comment", "Very tidy.")
    tab_to(page, text="Confirm it was done")
    press_enter(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "“Mow the lawn” is confirmed as done"
    )
    mowing = Task.objects.get(title="Mow the lawn")
    assert mowing.status == TaskStatus.SETTLED
    assert mowing.feedback.rating == 5

    # Change her phone number: a wrong one first.
    tab_to(page, text="Change contact details", tag="A")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Change contact details")
    check(page, "details")
    type_into(page, "phone", "12")
    tab_to(page, text="Save", tag="BUTTON")
    press_enter(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a UK phone number")
    check(page, "details-error")
    type_into(page, "phone", "020 7946 0018")
    tab_to(page, text="Save", tag="BUTTON")
    press_enter(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Alice Archer's contact details are saved."
    )
    expect(page.locator("main")).to_contain_text("020 7946 0018")
    expect(page.locator("main")).to_contain_text("Changed contact details")
    check(page, "card-after")
    assert Member.objects.get(pk=world.alice.pk).phone == "+442079460018"

    # Alice reads what was done for her, with the calls.
    page.context.clear_cookies()
    sign_in(page, live_server, "alice@example.org", PASSWORD)
    page.goto("/my/on-my-behalf/")
    main = page.locator("main")
    expect(main).to_contain_text("Asked for help for you")
    expect(main).to_contain_text("Call CALL-100")
    expect(main).to_contain_text("Her grandson put it up.")
    expect(main).to_contain_text("Changed your contact details")
    check(page, "on-my-behalf")


def test_the_other_states_are_accessible(
    page: Page, live_server: LiveServer, world: Personas, check: Check
) -> None:
    sign_in(page, live_server, "otto@example.org", PASSWORD)
    # Bob has not paid: his card has no "Book help", and the booking page says why.
    page.goto(f"/console/southwark/members/{world.bob.pk}/")
    expect(page.locator("main")).to_contain_text("Not paid yet")
    check(page, "card-not-paid")
    page.goto(f"/console/southwark/members/{world.bob.pk}/book/")
    expect(page.locator("main")).to_contain_text("Bob's membership is not paid up")
    check(page, "book-not-served")

    # Alice asks for more than she has: the check step says so, with no button to book.
    page.goto(f"/console/southwark/members/{world.alice.pk}/book/")
    page.get_by_label("Call reference").fill("CALL-7")
    page.select_option("#id_category", "gardening")
    page.get_by_label("The job, in a few words").fill("Clear the garden")
    page.select_option("#id_day", london().date().isoformat())
    page.select_option("#id_start", "09:00")
    page.select_option("#id_end", "14:00")
    page.select_option("#id_minutes", "240")
    page.get_by_role("button", name="Check the booking").click()
    expect(page.locator("main")).to_contain_text("Alice does not have enough tokens for this.")
    expect(page.get_by_role("button", name="Book help")).to_have_count(0)
    check(page, "book-check-not-enough")
    # Back to the form, then a job longer than its window.
    page.get_by_role("button", name="Change the booking").click()
    page.select_option("#id_end", "10:00")
    page.get_by_role("button", name="Check the booking").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The job must fit between")
    check(page, "book-window-error")
