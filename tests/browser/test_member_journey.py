"""The issue's "done when", end to end in Chromium by keyboard alone: a visitor joins Southwark,
pays the membership by card, buys 3 tokens by card, asks for help, follows the request, says it
has been done, and reads the statement. At 1280 px and at 320 px with JavaScript, and at 320 px
without it; axe-core checks each of our pages as the journey reaches it.

Card payments go through payments.stripe_local, the local stand-in for Stripe: our pay button
sends the browser to the stand-in's pay page, whose button "pays" (the stand-in then delivers the
signed webhooks to the live server itself) and sends the payer back to /my/pay/?checkout=paid.
The stand-in's page is not ours, so axe does not check it; it is crossed by keyboard too.

Each page's empty and refused states are the business of test_join_journey.py and
test_ask_journey.py: this test walks the happy path once, reusing their keyboard helpers, so
that all three runs stay quick. Set CIRCLE_SCREENSHOTS to a path prefix to keep pictures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from matching.models import Task, TaskStatus
from matching.rules import local_zone
from members.models import Member, MembershipStatus
from payments.models import Payment
from payments.stripe_local import LocalStripe, running
from tests.browser.conftest import PageAt, Width, assert_accessible
from tests.browser.test_ask_journey import (
    choose,
    confirm_by_keyboard,
    continue_,
    hana_does_it,
    press_enter,
    tab_to,
)
from tests.browser.test_join_journey import (
    BORN,
    NEW_PASSWORD,
    path_of,
    screenshot,
    type_into,
)
from tests.conftest import Personas
from tests.matching.conftest import london, vet
from tests.payments.conftest import WEBHOOK_SECRET, WEBHOOK_URL

# Paying, holding and settling write ledger rows: PostgreSQL only (see conftest.py).
pytestmark = pytest.mark.postgres

DORA_EMAIL = "dora@example.org"
# The webhook may be applied just before the payer is back, or just after.
WEBHOOK_WAIT_SECONDS = 15


@pytest.fixture
def southwark(personas: Personas) -> Personas:
    """Southwark with a phone number, and Hana vetted (basic) for gardening, as a helper who
    can take the request."""
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])
    vet(personas.hana_helper, by=personas.cora)
    personas.hana_helper.refresh_from_db()
    return personas


@pytest.fixture
def stand_in(live_server: LiveServer, settings: Any) -> Iterator[LocalStripe]:
    """The local Stripe, delivering its webhooks to the live server; Circle pointed at it."""
    with running(
        webhook_secret=WEBHOOK_SECRET, webhook_url=f"{live_server.url}{WEBHOOK_URL}"
    ) as state:
        settings.STRIPE_API_BASE = state.base_url
        settings.STRIPE_SECRET_KEY = "sk_test_x"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_CHECKOUT_RETURN_URL = live_server.url
        yield state


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    screenshot(page, f"journey-{label.replace(' ', '-').replace(',', '')}")


def reload_until(page: Page, text: str) -> None:
    """Reloads the page until its main part says `text`, for up to WEBHOOK_WAIT_SECONDS: a card
    payment counts once Stripe's webhook has been applied."""
    deadline = time.monotonic() + WEBHOOK_WAIT_SECONDS
    while True:
        try:
            expect(page.locator("main")).to_contain_text(text, timeout=1_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def go_home(page: Page) -> None:
    """The header's "Circle" link, which is a signed-in person's home page."""
    tab_to(page, text="Circle", tag="A")
    press_enter(page)
    assert path_of(page) == "/my/"


def join(page: Page) -> Member:
    """From the circle's page through each question (answered rightly at once) to the
    confirmation."""
    page.goto("/circles/southwark/")
    check(page, "circle page")
    tab_to(page, text="Join as a member")
    press_enter(page)
    check(page, "join start")
    tab_to(page, text="Start now")
    press_enter(page)
    questions: list[tuple[str, dict[str, str]]] = [
        ("name", {"id_full_name": "Dora Dawson"}),
        (
            "date of birth",
            {
                "id_date_of_birth": str(BORN.day),
                "id_date_of_birth_month": str(BORN.month),
                "id_date_of_birth_year": str(BORN.year),
            },
        ),
        ("address", {"id_address_line1": "12 Tabard Street", "id_postcode": "se1 7pb"}),
        ("phone", {"id_phone": "07911 123456"}),
        ("email", {"id_email": DORA_EMAIL}),
        ("password", {"id_password": NEW_PASSWORD, "id_password_again": NEW_PASSWORD}),
    ]
    for label, fields in questions:
        check(page, label)
        for field_id, value in fields.items():
            type_into(page, field_id, value)
        press_enter(page)  # Enter in a box sends its form
        expect(page.locator(".govuk-error-summary")).to_have_count(0)

    assert path_of(page) == "/circles/southwark/join/check/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    check(page, "join check your answers")
    tab_to(page, text="Join", tag="BUTTON")
    press_enter(page)

    assert path_of(page) == "/circles/southwark/join/done/"
    expect(page.get_by_role("heading", level=1)).to_have_text("You have joined Southwark Circle")
    check(page, "joined")
    return Member.objects.get(email=DORA_EMAIL)


def pay_on_stand_in(page: Page, stand_in: LocalStripe, says: str) -> None:
    """On the stand-in's Checkout page: Tab to Pay, Enter; back at /my/pay/?checkout=paid."""
    assert page.url.startswith(f"{stand_in.base_url}/pay/"), page.url
    expect(page.locator("body")).to_contain_text(says)
    tab_to(page, text="Pay", tag="BUTTON")
    press_enter(page)
    assert page.url.endswith("/my/pay/?checkout=paid"), page.url
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Thank you. Your payment is being confirmed"
    )


def pay_membership(page: Page, stand_in: LocalStripe, dora: Member) -> None:
    tab_to(page, text="Pay for your membership")
    press_enter(page)
    assert path_of(page) == "/my/pay/"
    expect(page.locator("main")).to_contain_text("Your membership is not paid yet.")
    check(page, "pay")
    tab_to(page, text="Pay £10.00 by card", tag="BUTTON")
    press_enter(page)
    pay_on_stand_in(page, stand_in, "Membership, a year: £10.00")
    check(page, "pay, returned")

    go_home(page)
    reload_until(page, "Your membership is paid until")
    check(page, "home, membership paid")
    dora.refresh_from_db()
    assert dora.membership_status == MembershipStatus.ACTIVE


def buy_three_tokens(page: Page, stand_in: LocalStripe, dora: Member) -> None:
    expect(page.locator("main")).to_contain_text("You have no tokens to spend at the moment.")
    tab_to(page, text="Pay for membership or buy tokens")
    press_enter(page)
    expect(page.locator("main")).to_contain_text("It renews by card each year")
    tab_to(page, text="Buy tokens")
    press_enter(page)
    assert path_of(page) == "/my/pay/tokens/"
    check(page, "how many tokens")
    tab_to(page, name="tokens")
    page.keyboard.type("3")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check what you are buying")
    expect(page.locator("main")).to_contain_text("3 tokens: 3 hours of help")
    check(page, "check what you are buying")
    tab_to(page, text="Continue to payment", tag="BUTTON")
    press_enter(page)
    pay_on_stand_in(page, stand_in, "Tokens: £")
    # The pay page and the home page were checked above in these states, bar the numbers.
    go_home(page)
    reload_until(page, "You have 3 hours (3 tokens) of help to spend.")
    assert Payment.objects.filter(member=dora, purpose="tokens", tokens=3).count() == 1


def ask(page: Page) -> Task:
    """From the home page to the booked request: gardening tomorrow 10am to 12pm, an hour and a
    half, once. (Dora knows no helper yet, so the helper question is not asked.)"""
    tab_to(page, text="Ask for help")
    press_enter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for help")
    check(page, "ask start")
    tab_to(page, text="Start")
    press_enter(page)

    check(page, "ask what")
    choose(page, "category", "Gardening")
    continue_(page)

    check(page, "ask job")
    tab_to(page, label="In a few words, what is the job?")
    page.keyboard.type("Trim the hedge")
    tab_to(page, name="details")
    page.keyboard.type("The front hedge, about 5 m. The shears are in the shed.")
    continue_(page)

    check(page, "ask day")
    choose(page, "day", f"Tomorrow: {london(hour=10):%A} {london(hour=10).day} {london():%B}")
    continue_(page)

    check(page, "ask time")
    tab_to(page, name="start")
    page.keyboard.type("10am")
    tab_to(page, name="end")
    page.keyboard.type("12pm")
    expect(page.locator("#id_start")).to_have_value("10:00")
    expect(page.locator("#id_end")).to_have_value("12:00")
    continue_(page)

    check(page, "ask how long")
    choose(page, "minutes", "1 hour 30 minutes (1.5 tokens)")
    continue_(page)

    check(page, "ask repeat")
    choose(page, "repeat", "No, just this once")
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    main = page.locator("main")
    expect(main).to_contain_text("Trim the hedge")
    expect(main).to_contain_text(
        "We will set aside 1 hour 30 minutes (1.5 tokens) until the job is done. "
        "You have 3 hours (3 tokens) available."
    )
    check(page, "ask check your answers")
    tab_to(page, text="Ask for help", tag="BUTTON")
    press_enter(page)

    task = Task.objects.get(title="Trim the hedge")
    assert path_of(page) == f"/my/requests/{task.pk}/"
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have asked for help.")
    expect(main).to_contain_text("Looking for a helper")
    check(page, "request open")
    return task


def read_statement(page: Page, task: Task) -> None:
    """Her statement, newest first: the settlement, the hold and the purchase, in words."""
    tab_to(page, text="See your tokens and statement")
    press_enter(page)
    assert path_of(page) == "/my/tokens/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Your tokens")
    # 3 bought, 1.5 set aside, 2 paid (1 hour 45 minutes, in blocks of 30): 1 left.
    expect(page.locator("main")).to_contain_text("You have 1 hour (1 token) to spend.")
    label = f"'Trim the hedge' on {task.window_start.astimezone(local_zone()).day}"
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(f"Paid for {label}")
    expect(rows.nth(0)).to_contain_text("Out: 30 minutes (0.5 tokens)")
    expect(rows.nth(1)).to_contain_text(f"Held for {label}")
    expect(rows.nth(1)).to_contain_text("Out: 1 hour 30 minutes (1.5 tokens)")
    expect(rows.nth(2)).to_contain_text("3 tokens bought (card)")
    expect(rows.nth(2)).to_contain_text("In: 3 hours (3 tokens)")
    check(page, "statement")


JOURNEYS: list[tuple[Width, bool]] = [(1280, True), (320, True), (320, False)]


@pytest.mark.parametrize(
    ("width", "javascript"),
    JOURNEYS,
    ids=[f"{width}px{'' if js else '-nojs'}" for width, js in JOURNEYS],
)
def test_a_visitor_joins_pays_asks_confirms_and_reads_her_statement_by_keyboard(
    width: Width,
    javascript: bool,
    page_at: PageAt,
    southwark: Personas,
    stand_in: LocalStripe,
) -> None:
    page = page_at(width, javascript=javascript)
    dora = join(page)
    pay_membership(page, stand_in, dora)
    buy_three_tokens(page, stand_in, dora)
    task = ask(page)

    hana_does_it(southwark, task)
    # Her page, reloaded: Hana's first name, and the job is done; she confirms with a rating.
    confirm_by_keyboard(page, task, check)
    task.refresh_from_db()
    assert task.status == TaskStatus.SETTLED
    read_statement(page, task)
