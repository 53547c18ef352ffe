"""A member's right to erasure in Chromium, at 1280 px and 320 px (issue 14): Philippa, a member
with a history (requests titled with her name and address, done and paid for by Hana; tokens
bought by card through the local Stripe and its webhook; text messages; staff acts in the
audit; a failed sign-in under her email), is erased by Cora, her circle's coordinator, through
the pages from her caller's card (axe silent on each state). Then the whole test database is
dumped (pg_dump) and her name, email, phone and address are nowhere in it, and `ledger_audit`
still finds the books balanced.

Set CIRCLE_SCREENSHOTS to a path prefix (`/tmp/er-`) to keep a picture of each state.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from matching.models import Task
from matching.services import task_accept, task_book, task_complete, task_confirm
from members.models import Member
from members.selectors import caller_for
from messaging.services import sms_send
from payments.models import Payment, StripeEvent
from payments.services import tokens_checkout_create
from payments.stripe_local import LocalStripe, running
from tests.browser.conftest import assert_accessible, assert_no_browser_errors, sign_in
from tests.browser.test_join_journey import screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.matching.conftest import london, make_active, vet
from tests.payments.conftest import WEBHOOK_SECRET, WEBHOOK_URL

# Payments, tasks and the ledger are written and read by the live server.
pytestmark = [pytest.mark.browser, pytest.mark.postgres]

NAME = "Philippa Wrexhamstone"
EMAIL = "philippa.wrexhamstone@example.org"
PHONE = "+447700900888"
PHONE_WRITTEN = "07700 900888"
ADDRESS = "7 Quenby Mews"
TITLE = f"Fix {NAME}'s gate at {ADDRESS}"


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
        settings.SITE_URL = live_server.url
        yield state


@pytest.fixture
def philippa(personas: Personas, stand_in: LocalStripe, settings: Any) -> Member:
    settings.SMS_BACKEND = "circle.sms.LocmemBackend"
    member = personas.alice
    Member.objects.filter(pk=member.pk).update(
        full_name=NAME, email=EMAIL, phone=PHONE, address_line1=ADDRESS
    )
    assert member.user is not None
    member.user.email = EMAIL
    member.user.full_name = NAME
    member.user.save()
    member.refresh_from_db()
    make_active(member, by=personas.otto, tokens=2, reference="CASH-PW")

    # A token bought by card: Checkout on the local Stripe, paid, its webhook delivered.
    as_her = caller_for(user=member.user, circle=member.circle)
    checkout = tokens_checkout_create(member=member, caller=as_her, tokens=1)
    assert checkout.stripe_session_id is not None
    delivered = stand_in.deliver(stand_in.complete(checkout.stripe_session_id))
    assert delivered >= 1
    assert Payment.objects.filter(member=member, method="card").exists()
    assert StripeEvent.objects.exists()

    # A request with her name and address in its words, done by Hana and paid for.
    vet(personas.hana_helper, by=personas.cora)
    start = london(hour=10)
    booked = task_book(
        member=member,
        caller=as_her,
        category="gardening",
        title=TITLE,
        details=f"Ring {PHONE_WRITTEN} when at {ADDRESS}",
        window_start=start,
        window_end=start + timedelta(hours=2),
        estimated_minutes=60,
    )
    hana = caller_for(user=personas.hana.user, circle=member.circle)
    task_accept(task=booked.task, helper=personas.hana_helper, caller=hana)
    task = Task.objects.get(pk=booked.task.pk)
    task_complete(task=task, helper=personas.hana_helper, caller=hana, minutes=60)
    task_confirm(
        task=Task.objects.get(pk=task.pk), caller=as_her, rating=5, comment=f"{NAME} is grateful"
    )
    sms_send(member=member, body=f"Hello {NAME}, your gate is booked.", reference="test")
    # A failed sign-in under her email: django-axes records it.
    Client().post("/sign-in/", {"username": EMAIL, "email": EMAIL, "password": "wrong"})
    return member


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    assert_no_browser_errors(page, label)
    screenshot(page, f"erase-{label.replace(' ', '-')}")


def database_dump() -> str:
    """The whole test database as text: pg_dump where it is installed, else every text
    column of every table read with raw SQL."""
    db = connection.settings_dict
    if shutil.which("pg_dump"):
        env = dict(os.environ)
        if db.get("PASSWORD"):
            env["PGPASSWORD"] = str(db["PASSWORD"])
        command = ["pg_dump", "--no-owner", "--dbname", str(db["NAME"])]
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if db.get(key):
                command += [flag, str(db[key])]
        # Our own settings, as a list (no shell).
        dumped = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
        return dumped.stdout
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608  # our own table names
            parts += [repr(row) for row in cursor.fetchall()]
    return "\n".join(parts)


def test_cora_erases_philippa_and_nothing_of_her_is_left(
    page: Page, live_server: LiveServer, philippa: Member, personas: Personas
) -> None:
    before = database_dump().lower()
    for words in (NAME, EMAIL, ADDRESS):
        assert words.lower() in before, f"the history holds {words!r} before erasure"

    sign_in(page, live_server, "cora@example.org", PASSWORD)
    page.goto(f"{live_server.url}/console/southwark/members/{philippa.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    with page.expect_navigation():
        page.get_by_role("button", name="Erase their data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase this member's personal data")
    main = page.locator("main")
    expect(main).to_contain_text("What we wipe")
    expect(main).to_contain_text("What we keep")
    check(page, "erase page")

    with page.expect_navigation():
        page.get_by_role("button", name="Erase their personal data").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Say why you are erasing their data.")
    expect(summary).to_contain_text("Tick the box to confirm you understand this cannot be undone.")
    check(page, "erase page errors")

    page.get_by_label("Why are you erasing their data?").fill("She asked us to, by letter")
    page.get_by_label("I understand this cannot be undone").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Erase their personal data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Former member {philippa.pk}")
    expect(page.locator("main")).to_contain_text("Their personal data was erased on")
    check(page, "card after erasure")

    dump = database_dump().lower()
    for words in (NAME, "Wrexhamstone", EMAIL, PHONE, PHONE_WRITTEN, "07700900888", ADDRESS):
        assert words.lower() not in dump, f"{words!r} is still in the database"
    call_command("ledger_audit")
