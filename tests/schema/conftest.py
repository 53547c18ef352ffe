"""A world for schemathesis to call the API in: the demo circle (`seed_demo`: a coordinator, an
operator, members, helpers, tasks in every state, payments, a gift to the pot) and a little more
(a recurring task, a follow-up), with an API token for each persona.

It is made once per session and committed to the test database, so that 235 tests do not build
it 235 times; each test then runs in a transaction that is rolled back, as every database test
does, and `ledger_audit` runs after each (tests/conftest.py). Committed rows would leak into
other tests, so this folder runs only in a session of its own (`./scripts/schemathesis`, or
`pytest tests/schema`): in a run with any other test its tests are deselected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from django.utils import timezone
from pytest_django import DjangoDbBlocker
from rest_framework.authtoken.models import Token

from attention.models import Item, ItemKind
from attention.services import item_raise
from circle.models import Circle
from helpers.models import Helper
from matching.models import Task, TaskSeries
from matching.rules import local_zone
from matching.services.recurring import series_create
from members.models import Member, TrustedPerson, User
from members.selectors import caller_for
from payments.models import Payment
from payments.services import tokens_checkout_create
from payments.stripe_local import LocalStripe, running
from tokens.models import Account, LedgerTransaction
from web.management.commands.seed_demo import DEMO_SLUG

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(trylast=True)  # after `-m` has deselected by mark
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if HERE in item.path.resolve().parents]
    for item in ours:
        item.add_marker(pytest.mark.schemathesis)
    if ours and len(ours) < len(items):
        # Other tests in this run: leave ours out rather than commit the world under them.
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item not in set(ours)]


@dataclass
class World:
    """The demo circle, its personas' tokens, and the ids of real objects, by the names the
    API gives them in paths, queries and bodies."""

    slug: str
    tokens: dict[str, str]
    ids: dict[str, list[int]] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)


# Who calls, by persona: the demo people (seed_demo.PEOPLE) who hold each role.
PERSONA_EMAILS = {
    "member": "margaret@demo.circle.test",
    "helper": "priya@demo.circle.test",
    "operator": "omar@demo.circle.test",
    "coordinator": "grace@demo.circle.test",
    # Margaret's daughter: a login with no member record, acting for her within scopes.
    "trusted": "susan@demo.circle.test",
}


WEBHOOK_SECRET = "whsec_schemathesis"


@pytest.fixture(scope="session")
def stripe() -> Iterator[LocalStripe]:
    """The local stand-in for Stripe (payments/stripe_local.py) for the whole run, so card
    checkouts and refunds answer as they do in production rather than 503 "not set up"."""
    with (
        running(webhook_secret=WEBHOOK_SECRET) as state,
        override_settings(
            STRIPE_API_BASE=state.base_url,
            STRIPE_SECRET_KEY="sk_test_schemathesis",
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ),
    ):
        yield state


@pytest.fixture(autouse=True)
def requests_keep_the_test_connection() -> Iterator[None]:
    """schemathesis calls the WSGI app itself, and Django closes the database connection at
    the start and end of each request it serves, which in a test's transaction is the test's
    own (on PostgreSQL: "connection already closed"). Django's test client unhooks the same two
    signals around each of its requests, and hooks them again after (so per test, not once)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(autouse=True)
def stripe_forgets_each_test(stripe: LocalStripe) -> Iterator[None]:
    """Each test's writes are rolled back, and on SQLite the next test's rows get the same ids,
    so the same idempotency keys (made from our rows' ids) with other parameters: Stripe would
    refuse them. Stripe forgets the keys a test used, as the database forgets its rows."""
    yield
    with stripe.lock:
        stripe.idempotent.clear()


@pytest.fixture(scope="session")
def world(django_db_setup: None, django_db_blocker: DjangoDbBlocker, stripe: LocalStripe) -> World:
    # The tests' fast hasher (tests/conftest.py) is function-scoped; this runs before it.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast:
        call_command("seed_demo", password="schemathesis-2026", stdout=_Quiet())
        circle = Circle.objects.get(slug=DEMO_SLUG)
        _extras(circle, stripe)
        tokens = {
            persona: Token.objects.get_or_create(user=User.objects.get(email=email))[0].key
            for persona, email in PERSONA_EMAILS.items()
        }
        members = list(Member.objects.filter(circle=circle).values_list("pk", flat=True))
        ids = {
            "member_id": members,
            "to_member_id": members,
            "about_member_id": members,
            "helper_id": list(Helper.objects.filter(circle=circle).values_list("pk", flat=True)),
            "task_id": list(Task.objects.filter(circle=circle).values_list("pk", flat=True)),
            "series_id": list(
                TaskSeries.objects.filter(circle=circle).values_list("pk", flat=True)
            ),
            "transaction_id": list(
                LedgerTransaction.objects.filter(circle=circle).values_list("pk", flat=True)
            ),
            "account_id": list(Account.objects.filter(circle=circle).values_list("pk", flat=True)),
            "payment_id": list(Payment.objects.filter(circle=circle).values_list("pk", flat=True)),
            "followup_id": list(Item.objects.filter(circle=circle).values_list("pk", flat=True)),
            "trusted_id": list(
                TrustedPerson.objects.filter(circle=circle).values_list("pk", flat=True)
            ),
        }
        categories = list(circle.categories.values_list("slug", flat=True))
    return World(slug=DEMO_SLUG, tokens=tokens, ids=ids, categories=categories)


def _extras(circle: Circle, stripe: LocalStripe) -> None:
    """What the demo lacks for the API's every path: tokens bought by card (to refund), a
    recurring task and a follow-up."""
    margaret = Member.objects.get(circle=circle, email=PERSONA_EMAILS["member"])
    checkout = tokens_checkout_create(
        member=margaret, caller=caller_for(user=margaret.user, circle=circle), tokens=3
    )
    for event in stripe.complete(checkout.url.rsplit("/", 1)[-1]):
        payload, signature = stripe.signed(event)
        answer = Client().post(
            "/api/v1/payments/stripe/webhook/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        assert answer.status_code == 200, answer.content
    day = timezone.localdate() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    series_create(
        member=margaret,
        caller=caller_for(user=margaret.user, circle=circle),
        category="companionship",
        title="A cup of tea and a chat",
        window_start=datetime.combine(day, time(14), tzinfo=local_zone()),
        window_end=datetime.combine(day, time(15), tzinfo=local_zone()),
        estimated_minutes=60,
        interval_weeks=1,
    )
    item_raise(member=margaret, kind=ItemKind.GRACE, cause="schemathesis")


class _Quiet:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
