"""The coordinators' ledger in Chromium, at 1280 px (a desk) and 320 px: Cora sees the trial
balance total 0, finds the day that looks wrong (Bob's hour bought twice), opens it, opens the
second purchase, reverses it with a reason (first without one, refused) and sees the trial
balance still 0; checks the books; then makes an adjustment, and a large one that waits until
Cole, a second coordinator, approves it. axe-core checks every page and state on the way, and
the states the journey does not reach (a member's statement, the export, filters that match
nothing, a refused second reversal, a task movement that is not reversed, nothing waiting).

The journey writes the ledger, so it runs on PostgreSQL (tests/conftest.py says why).
Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/cl-`) to keep a picture of each state.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from members.models import Member, RoleName
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_join_journey import path_of, screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD, MemberFactory, UserFactory
from tokens.models import Account, Approval, LedgerTransaction
from tokens.services import hold_create, purchase_credit, reversal_create, transfer_create

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

LEDGER = "/coordinator/southwark/ledger/"
CORA_EMAIL = "cora@example.org"


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    screenshot(page, f"ledger-{label}")


def click_and_wait(page: Page, locator: Locator) -> None:
    with page.expect_navigation():
        locator.click()


@pytest.fixture
def books(personas: Personas) -> dict[str, int]:
    """Alice bought two hours and gave Bob half an hour; Bob's hour was recorded twice (a
    cash payment entered twice)."""
    alice = purchase_credit(
        member=personas.alice, minutes=120, payment_key="cash-a1", actor=personas.otto.user
    ).transaction_id
    transfer_create(
        source=personas.alice,
        destination=personas.bob,
        minutes=30,
        memo="For the lift",
        actor=personas.alice.user,
        idempotency_key="g1",
    )
    first = purchase_credit(
        member=personas.bob, minutes=60, payment_key="cash-b1", actor=personas.otto.user
    ).transaction_id
    twice = purchase_credit(
        member=personas.bob, minutes=60, payment_key="cash-b1-again", actor=personas.otto.user
    ).transaction_id
    return {"alice": alice, "bob_first": first, "bob_twice": twice}


def cole(personas: Personas) -> Member:
    return MemberFactory(
        circle=personas.southwark,
        user=UserFactory(email="cole@example.org", full_name="Cole Coordinator"),
        roles=[RoleName.COORDINATOR],
    )


def test_cora_reverses_a_purchase_entered_twice_and_the_books_still_balance(
    page: Page, live_server: LiveServer, personas: Personas, books: dict[str, int]
) -> None:
    sign_in(page, live_server, CORA_EMAIL, PASSWORD)
    main = page.locator("main")
    page.goto(f"{live_server.url}{LEDGER}")
    expect(main).to_contain_text("The accounts total 0 minutes: the books balance.")
    expect(main).to_contain_text("The books have not been checked yet.")
    check(page, "trial-balance")

    # Day by day: today's purchases look high (Bob's hour twice); open the day.
    click_and_wait(page, main.get_by_role("link", name="Day by day"))
    expect(main.locator("#days")).to_contain_text("Purchase (minutes)")
    check(page, "days")
    click_and_wait(page, main.locator("#days tbody a").first)
    expect(main).to_contain_text("This day's totals")
    expect(main.locator("#transactions")).to_contain_text(f"Purchase #{books['bob_twice']}")
    check(page, "one-day")

    click_and_wait(page, main.get_by_role("link", name=f"Purchase #{books['bob_twice']}"))
    assert path_of(page) == f"{LEDGER}transactions/{books['bob_twice']}/"
    expect(main).to_contain_text(f"Bob Baker (member {personas.bob.pk})")
    expect(main.locator("dl")).to_contain_text("Otto Operator")
    check(page, "transaction")

    click_and_wait(page, main.get_by_role("button", name="Reverse this transaction"))
    expect(main).to_contain_text(f"Reverse Purchase #{books['bob_twice']}?")
    check(page, "reverse")
    click_and_wait(page, main.get_by_role("button", name="Reverse it"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why.")
    check(page, "reverse-refused")
    main.get_by_label("Why are you reversing it?").fill("Bob's cash was entered twice.")
    click_and_wait(page, main.get_by_role("button", name="Reverse it"))
    expect(main).to_contain_text("The trial balance still totals 0.")
    expect(main).to_contain_text("This transaction has been reversed.")
    check(page, "reversed")
    reversal = LedgerTransaction.objects.get(reverses_id=books["bob_twice"])
    assert reversal.actor == personas.cora.user
    assert Account.objects.get(member=personas.bob).balance == 90

    click_and_wait(page, main.get_by_role("link", name="All transactions"))
    page.goto(f"{live_server.url}{LEDGER}")
    expect(main).to_contain_text("The accounts total 0 minutes: the books balance.")
    click_and_wait(page, main.get_by_role("button", name="Check the books now"))
    expect(main).to_contain_text("Checked just now: the books hold.")
    expect(main.locator("#last-check")).to_contain_text("Passed")
    expect(main.locator("#last-check")).to_contain_text("by Cora Coordinator")
    check(page, "checked")


def test_cora_adjusts_and_a_large_adjustment_waits_for_cole(
    page: Page, live_server: LiveServer, personas: Personas, books: dict[str, int]
) -> None:
    second = cole(personas)
    sign_in(page, live_server, CORA_EMAIL, PASSWORD)
    main = page.locator("main")
    page.goto(f"{live_server.url}{LEDGER}corrections/new/")
    check(page, "correction")
    click_and_wait(page, main.get_by_role("button", name="Continue"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose an adjustment or a grant.")
    check(page, "correction-refused")

    main.get_by_label("Adjust a member's tokens").check()
    main.get_by_label("Member number").fill(str(personas.bob.pk))
    main.get_by_label("Minutes").fill("15")
    main.get_by_label("Why?").fill("Helper stayed 15 minutes longer than booked.")
    click_and_wait(page, main.get_by_role("button", name="Continue"))
    expect(main).to_contain_text("Done. The trial balance still totals 0.")
    expect(main.locator("dl")).to_contain_text("Helper stayed 15 minutes longer than booked.")
    check(page, "adjusted")

    page.goto(f"{live_server.url}{LEDGER}corrections/new/?member={personas.bob.pk}")
    main.get_by_label("Adjust a member's tokens").check()
    main.get_by_label("Minutes").fill("900")
    main.get_by_label("Why?").fill("A year of lifts recorded on paper.")
    click_and_wait(page, main.get_by_role("button", name="Continue"))
    assert path_of(page) == f"{LEDGER}approvals/"
    expect(main).to_contain_text("This is waiting for a second coordinator")
    expect(main).to_contain_text("You asked for this, so another coordinator must approve")
    check(page, "waiting-own")
    assert Account.objects.get(member=personas.bob).balance == 150 + 15

    page.context.clear_cookies()
    sign_in(page, live_server, "cole@example.org", PASSWORD)
    page.goto(f"{live_server.url}{LEDGER}approvals/")
    expect(main.locator("dl")).to_contain_text("Cora Coordinator")
    check(page, "waiting-for-cole")
    main.get_by_label("Your reason (optional)").fill("Checked the paper records.")
    click_and_wait(page, main.get_by_role("button", name="Approve"))
    expect(main).to_contain_text("Approved: Adjustment for Bob Baker is done.")
    expect(main).to_contain_text("Nothing is waiting.")
    check(page, "approved")
    assert Approval.objects.get().decided_by == second.user
    assert Account.objects.get(member=personas.bob).balance == 150 + 15 + 900


def test_the_other_states_are_accessible(
    page: Page, live_server: LiveServer, personas: Personas, books: dict[str, int]
) -> None:
    reversal_create(
        original=LedgerTransaction.objects.get(pk=books["bob_twice"]),
        reason="Entered twice",
        actor=personas.cora.user,
    )
    hold = hold_create(member=personas.alice, minutes=30, reference="task:9", actor=None)
    sign_in(page, live_server, CORA_EMAIL, PASSWORD)
    main = page.locator("main")

    page.goto(f"{live_server.url}{LEDGER}transactions/")
    expect(main.locator("#transactions")).to_contain_text("Reversed")
    check(page, "transactions")
    page.goto(f"{live_server.url}{LEDGER}transactions/?kind=grant&min_minutes=5")
    expect(main).to_contain_text("No transactions match these filters.")
    check(page, "transactions-none")
    page.goto(f"{live_server.url}{LEDGER}transactions/?since=2026-06-05&until=2026-06-01")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The last day must be on or after the first."
    )
    check(page, "transactions-bad-filter")

    # A second reversal, from a page opened before the first: refused with its message.
    page.goto(f"{live_server.url}{LEDGER}transactions/{books['bob_first']}/reverse/")
    reversal_create(
        original=LedgerTransaction.objects.get(pk=books["bob_first"]),
        reason="first",
        actor=personas.cora.user,
    )
    main.get_by_label("Why are you reversing it?").fill("Again")
    click_and_wait(page, main.get_by_role("button", name="Reverse it"))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "That transaction has already been reversed."
    )
    check(page, "reverse-already")

    page.goto(f"{live_server.url}{LEDGER}transactions/{hold.hold_transaction_id}/")
    expect(main).to_contain_text("undo it through the request")
    check(page, "hold")

    page.goto(f"{live_server.url}{LEDGER}members/{personas.alice.pk}/")
    expect(main).to_contain_text("Alice Archer's statement")
    check(page, "statement")
    page.goto(f"{live_server.url}{LEDGER}members/{personas.hana.pk}/")
    expect(main).to_contain_text("Nothing has moved in or out of their wallet yet.")
    check(page, "statement-empty")

    page.goto(f"{live_server.url}{LEDGER}export/")
    expect(main).to_contain_text("one row per entry")
    check(page, "export")
    page.goto(f"{live_server.url}{LEDGER}export/?since=&until=")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a date.")
    check(page, "export-refused")

    page.goto(f"{live_server.url}{LEDGER}approvals/")
    expect(main).to_contain_text("Nothing is waiting.")
    check(page, "approvals-none")
