"""The coordinators' queue in Chromium by keyboard alone, at 1280 px (a desk) and 320 px: Cora
opens her desk (safeguarding on top), filters to low ratings, opens the one about Hana, adds a
note (first an empty one, refused), gives it to Otto, resolves it with the outcome (first with
none, refused) and sees the counts go down. axe-core checks every state on the way, and those
the journey does not reach (filtered by who has it, an item resolved, an empty desk).

No ledger rows are written beyond the task's set-up (items are raised directly), so this runs
on SQLite too. Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/cq-`) to keep each state.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from attention.models import Item, ItemKind
from attention.services import item_raise
from matching.models import Task
from members.models import AuditEvent, Member
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_console_follow_ups_journey import tab_to, type_here
from tests.browser.test_join_journey import path_of, press_enter_and_wait, screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.tasks_factory import make_task

pytestmark = pytest.mark.browser

DESK = "/coordinator/southwark/"
CORA_EMAIL = "cora@example.org"
SELECTED = "() => { const s = document.activeElement; return s.options[s.selectedIndex].text; }"


def raise_at(member: Member, kind: str, *, days_ago: float, cause: str, **extra: object) -> Item:
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        item = item_raise(member=member, kind=kind, cause=cause, **extra)
    assert item is not None
    return item


@pytest.fixture
def desk(personas: Personas) -> dict[str, Item]:
    """Hana was rated 1 for Alice's shopping 5 days ago; Bob lapsed with tokens 3 days ago; a
    safeguarding concern about Alice came an hour ago."""
    task = make_task(member=personas.alice)
    Task.objects.filter(pk=task.pk).update(title="Shopping at Lidl")
    return {
        "rating": raise_at(
            personas.hana,
            ItemKind.LOW_RATING,
            days_ago=5,
            cause="feedback:1",
            task_id=task.pk,
            note="Alice Able rated “Shopping at Lidl” 1 out of 5: “Never came.”",
        ),
        "tokens": raise_at(
            personas.bob,
            ItemKind.LAPSED_TOKENS,
            days_ago=3,
            cause="p:1",
            note="Membership lapsed with 90 minutes of tokens left in their wallet.",
        ),
        "safe": raise_at(
            personas.alice,
            ItemKind.SAFEGUARDING,
            days_ago=1 / 24,
            cause="concern:1",
            note="Her neighbour says she has not been seen for two days.",
        ),
    }


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    screenshot(page, f"coordinator-queue-{label}")


def test_cora_filters_opens_notes_assigns_and_resolves_by_keyboard(
    page: Page, live_server: LiveServer, personas: Personas, desk: dict[str, Item]
) -> None:
    sign_in(page, live_server, CORA_EMAIL, PASSWORD)
    assert path_of(page) == DESK  # coordinators land on their desk
    main = page.locator("main")
    expect(main).to_contain_text("3 things wait for a coordinator")
    expect(main.locator("tbody tr").first).to_contain_text("Safeguarding concern")
    check(page, "desk")

    tab_to(page, text="Low rating (1 or 2) (1)")
    press_enter_and_wait(page)
    assert page.url.endswith(f"{DESK}?kind=low_rating")
    expect(main).to_contain_text("Low rating (1 or 2), anyone's: 1 waiting")
    expect(main).not_to_contain_text("not been seen for two days")
    check(page, "filtered")

    tab_to(page, text=f"Low rating (1 or 2) about {personas.hana.full_name}")
    press_enter_and_wait(page)
    item = desk["rating"]
    assert path_of(page) == f"{DESK}items/{item.pk}/"
    expect(main).to_contain_text("Shopping at Lidl")
    expect(main).to_contain_text("Nobody yet")
    check(page, "item")

    # An empty note is refused, and says so; then a real one.
    tab_to(page, field_id="id_text")
    type_here(page, "")
    tab_to(page, text="Add note")
    press_enter_and_wait(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write the note.")
    check(page, "note-refused")
    tab_to(page, field_id="id_text")
    type_here(page, "Rang Hana: her bus broke down. She will ring Alice.")
    tab_to(page, text="Add note")
    press_enter_and_wait(page)
    expect(main).to_contain_text("Your note is added.")
    expect(main).to_contain_text("Rang Hana: her bus broke down.")
    check(page, "noted")

    # Give it to Otto: the list moved with the arrow keys.
    tab_to(page, field_id="id_assignee")
    otto = personas.otto.full_name
    for _ in range(10):
        if page.evaluate(SELECTED) == otto:
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate(SELECTED) == otto
    tab_to(page, text="Give it to them")
    press_enter_and_wait(page)
    expect(main).to_contain_text(f"Given to {otto}.")
    expect(main).to_contain_text(f"given by {personas.cora.full_name}")
    check(page, "assigned")

    # Resolving with no outcome is refused; then with one.
    tab_to(page, field_id="id_outcome")
    type_here(page, "")
    tab_to(page, text="Resolve it")
    press_enter_and_wait(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what the outcome was.")
    check(page, "resolve-refused")
    tab_to(page, field_id="id_outcome")
    type_here(page, "Hana apologised to Alice and booked the shopping again.")
    tab_to(page, text="Resolve it")
    press_enter_and_wait(page)
    assert path_of(page) == DESK
    expect(main).to_contain_text(f"Resolved: Low rating (1 or 2) for {personas.hana.full_name}.")
    expect(main).to_contain_text("Low rating (1 or 2) (0)")
    expect(main).to_contain_text("2 things wait for a coordinator")
    check(page, "resolved")

    saved = Item.objects.get(pk=item.pk)
    assert saved.done_by == personas.cora.user
    assert saved.done_note == "Hana apologised to Alice and booked the shopping again."
    assert saved.claimed_by == personas.otto.user
    assert saved.notes.get().text == "Rang Hana: her bus broke down. She will ring Alice."
    assert AuditEvent.objects.filter(action="followup.assigned").count() == 1


def test_the_other_states_are_accessible(
    page: Page, live_server: LiveServer, personas: Personas, desk: dict[str, Item]
) -> None:
    sign_in(page, live_server, CORA_EMAIL, PASSWORD)
    main = page.locator("main")

    # Taking one; then the desk filtered to hers, and to nobody's.
    page.goto(f"{DESK}items/{desk['safe'].pk}/")
    tab_to(page, text="I'll take it")
    press_enter_and_wait(page)
    expect(main).to_contain_text("You have this one now.")
    check(page, "taken")
    page.goto(f"{DESK}?who=mine")
    expect(main).to_contain_text("Mine: 1 waiting")
    check(page, "mine")
    page.goto(f"{DESK}?who=unassigned")
    expect(main).to_contain_text("Nobody's yet: 2 waiting")
    check(page, "unassigned")

    # A resolved item's page: the outcome, nothing more to do.
    Item.objects.filter(pk=desk["tokens"].pk).update(
        done_at=timezone.now(), done_by=personas.cora.user, done_note="Refunded by cheque."
    )
    page.goto(f"{DESK}items/{desk['tokens'].pk}/")
    expect(main).to_contain_text("Refunded by cheque.")
    check(page, "resolved-item")

    Item.objects.update(done_at=timezone.now())
    page.goto(DESK)
    expect(main).to_contain_text("Nothing is waiting for a coordinator. Well done.")
    check(page, "empty")


def test_the_queue_works_without_javascript(
    page_without_javascript: Page,
    live_server: LiveServer,
    personas: Personas,
    desk: dict[str, Item],
) -> None:
    page = page_without_javascript
    sign_in(page, live_server, CORA_EMAIL, PASSWORD)
    main = page.locator("main")
    page.goto(f"{DESK}?kind=lapsed_tokens")
    tab_to(page, text=f"Lapsed with tokens left about {personas.bob.full_name}")
    press_enter_and_wait(page)
    tab_to(page, text="I'll take it")
    press_enter_and_wait(page)
    expect(main).to_contain_text("You have this one now.")
    tab_to(page, field_id="id_outcome")
    type_here(page, "He wants a refund; sent to the operators.")
    tab_to(page, text="Resolve it")
    press_enter_and_wait(page)
    assert path_of(page) == DESK
    expect(main).to_contain_text("Lapsed with tokens left (0)")
    check(page, "resolved-nojs")
    assert Item.objects.get(pk=desk["tokens"].pk).done_by == personas.cora.user
