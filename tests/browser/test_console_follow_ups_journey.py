"""The operators' follow-ups in Chromium by keyboard alone, at 1280 px (a desk) and 320 px:
Otto opens the queue, opens the oldest item, says he will ring, adds a note (first an empty
one, refused), closes it with the outcome and sees the counts go down. axe-core checks every
state on the way, and the states the journey does not reach (an item someone else holds, a
filtered queue, a closed item, an empty queue).

No ledger rows are written (follow-ups are raised directly), so this runs on SQLite too.
Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/cf-`) to keep a picture of each state.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from attention.models import Item, ItemKind
from attention.services import item_claim, item_done, item_raise
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_join_journey import path_of, press_enter_and_wait, screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD

QUEUE = "/console/southwark/follow-ups/"
OTTO_EMAIL = "otto@example.org"
# The focused element's words as a screen reader hears them (with visually hidden text, which
# innerText leaves out), and its id.
FOCUSED = """() => {
  const e = document.activeElement;
  return [(e.textContent || "").replace(/\\s+/g, " ").trim(), e.id || ""];
}"""


def tab_to(page: Page, *, text: str = "", field_id: str = "") -> None:
    """Press Tab until the link or button saying `text`, or the box `field_id`, has focus."""
    for _ in range(80):
        page.keyboard.press("Tab")
        words, element_id = page.evaluate(FOCUSED)
        if (text and words == text) or (field_id and element_id == field_id):
            return
    pytest.fail(f"Tab never reached {text or field_id!r} on {page.url}")


def raise_at(member: Member, kind: str, *, days_ago: float, cause: str, note: str) -> Item:
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        item = item_raise(member=member, kind=kind, cause=cause, note=note)
    assert item is not None
    return item


@pytest.fixture
def queue(personas: Personas) -> dict[str, Item]:
    """Bob's card renewal failed 4 days ago; a text to Alice did not arrive 2 days ago, and
    Cora is dealing with it; Bob's membership ended an hour ago."""
    failed = raise_at(
        personas.bob,
        ItemKind.RENEWAL_FAILED,
        days_ago=4,
        cause="p:1",
        note="The card renewal was declined. Ask him to pay another way.",
    )
    sms = raise_at(
        personas.alice,
        ItemKind.SMS_UNDELIVERED,
        days_ago=2,
        cause="sms:1",
        note="A text to 07700 900001 was not delivered. It said: Hana is coming on Tuesday.",
    )
    item_claim(item=sms, caller=caller_for(user=personas.cora.user, circle=personas.southwark))
    grace = raise_at(
        personas.bob, ItemKind.GRACE, days_ago=1 / 24, cause="p:2", note="Membership ended."
    )
    return {"failed": failed, "sms": sms, "grace": grace}


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    screenshot(page, f"follow-ups-{label}")


def type_here(page: Page, value: str) -> None:
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Backspace")
    if value:
        page.keyboard.type(value)


def test_otto_claims_notes_and_closes_the_oldest_by_keyboard(
    page: Page, live_server: LiveServer, personas: Personas, queue: dict[str, Item]
) -> None:
    sign_in(page, live_server, OTTO_EMAIL, PASSWORD)
    page.goto(QUEUE)
    main = page.locator("main")
    expect(main).to_contain_text("3 people to ring or look into")
    expect(main).to_contain_text("All kinds (3)")
    expect(main).to_contain_text("Card renewal failed (1)")
    check(page, "queue")

    # The oldest first: Bob's failed renewal is the first item link.
    tab_to(page, text="Card renewal failed for Bob Baker")
    press_enter_and_wait(page)
    item = queue["failed"]
    assert path_of(page) == f"{QUEUE}{item.pk}/"
    expect(main).to_contain_text("Nobody yet")
    check(page, "item")

    tab_to(page, text="I'll ring them")
    press_enter_and_wait(page)
    expect(main).to_contain_text("You have this one now. Ring Bob Baker on 07700 900002.")
    expect(main).to_contain_text("This one is yours")
    check(page, "claimed")

    # An empty note is refused, and says so; then a real one.
    tab_to(page, field_id="id_text")
    type_here(page, "")
    tab_to(page, text="Add note")
    press_enter_and_wait(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write the note.")
    check(page, "note-refused")
    tab_to(page, field_id="id_text")
    type_here(page, "Rang at 10am. He will pay cash on Friday.")
    tab_to(page, text="Add note")
    press_enter_and_wait(page)
    expect(main).to_contain_text("Your note is added.")
    expect(main).to_contain_text("Rang at 10am. He will pay cash on Friday.")
    check(page, "noted")

    tab_to(page, field_id="id_outcome")
    type_here(page, "Paid £10 in cash on Friday.")
    tab_to(page, text="Close it")
    press_enter_and_wait(page)
    assert path_of(page) == QUEUE
    expect(main).to_contain_text("Closed: Card renewal failed for Bob Baker.")
    expect(main).to_contain_text("All kinds (2)")
    expect(main).to_contain_text("Card renewal failed (0)")
    check(page, "closed")

    saved = Item.objects.get(pk=item.pk)
    assert (saved.done_by, saved.done_note) == (personas.otto.user, "Paid £10 in cash on Friday.")
    assert saved.notes.get().text == "Rang at 10am. He will pay cash on Friday."
    assert AuditEvent.objects.filter(action="followup.done", member=personas.bob).count() == 1


def test_the_other_states_are_accessible(
    page: Page, live_server: LiveServer, personas: Personas, queue: dict[str, Item]
) -> None:
    sign_in(page, live_server, OTTO_EMAIL, PASSWORD)
    main = page.locator("main")

    # An item Cora holds: a warning, and the button to take it over.
    page.goto(f"{QUEUE}{queue['sms'].pk}/")
    expect(main).to_contain_text("Cora Coordinator is dealing with this.")
    check(page, "held-by-cora")

    # A claim from a page that was open before Cora claimed it: refused, saying who.
    page.goto(f"{QUEUE}{queue['grace'].pk}/")
    item_claim(
        item=queue["grace"], caller=caller_for(user=personas.cora.user, circle=personas.southwark)
    )
    tab_to(page, text="I'll ring them")
    press_enter_and_wait(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Cora Coordinator is already dealing with this follow-up."
    )
    check(page, "claim-refused")

    page.goto(f"{QUEUE}?kind=sms_undelivered")
    expect(main).to_contain_text("Text message not delivered: 1 waiting")
    check(page, "filtered")

    # Closing one that someone closed a moment before: the plain message.
    page.goto(f"{QUEUE}{queue['failed'].pk}/")
    item_done(
        item=queue["failed"],
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        note="She rang back and paid.",
    )
    tab_to(page, field_id="id_outcome")
    type_here(page, "Paid.")
    tab_to(page, text="Close it")
    press_enter_and_wait(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "This follow-up has already been closed"
    )
    expect(main).to_contain_text("She rang back and paid.")
    check(page, "closed-already")

    Item.objects.update(done_at=timezone.now())
    page.goto(QUEUE)
    expect(main).to_contain_text("Nothing is waiting.")
    check(page, "empty")
