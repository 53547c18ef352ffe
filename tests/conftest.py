"""Personas, as in healthchecks' tests.

Southwark: Alice and Bob are members, Hana helps, Otto is an operator, Cora a coordinator.
Suffolk: Sam is a member and Clara its coordinator. Every endpoint's tests show that Suffolk's
people cannot see Southwark's, and the other way round.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from circle.models import Circle
from helpers.models import Helper
from members.models import Member, RoleName, User
from tests.factories import CircleFactory, HelperFactory, MemberFactory, UserFactory

# The fault tests make their own PostgreSQL, Redis, gunicorn and worker and run on their own,
# through scripts/test_faults; the normal run never collects them.
collect_ignore = [] if os.environ.get("CIRCLE_FAULTS") else ["faults"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests (marked in tests/browser/conftest.py) run last, after pytest-django has
    ordered the rest: once Playwright has started, its event loop stays in this thread to the
    end of the run, so every test after it would need DJANGO_ALLOW_ASYNC_UNSAFE, which
    `check --deploy` (tests/api/test_settings.py) refuses."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    # Production hashes with PBKDF2's many rounds, on purpose slow; tests only need a hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def staff_two_factor_optional(settings: pytest.FixtureRequest) -> None:
    # Tests sign staff in with force_login (and the browser tests through the password page
    # alone), whatever DEBUG says; tests of two-factor itself ask for "required" where they
    # need it (tests/members/test_two_factor.py, tests/browser/test_two_factor_journey.py).
    settings.STAFF_TWO_FACTOR = "optional"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    # Rate limits count in the cache; each test starts with none spent.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def books_balance_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test did, the ledger must still hold: `ledger_audit` runs on every test's data
    before it is rolled back. A test that breaks the books on purpose marks itself
    `ledger_may_break`.

    A transactional test (`django_db(transaction=True)`, and every test in tests/browser/, which
    the live server needs) is audited on its committed data, before the flush that empties the
    tables. On SQLite that flush deletes row by row and the ledger's append-only triggers refuse
    it, so a transactional test that writes ledger rows runs on PostgreSQL only: it is marked
    `postgres` and skipped on SQLite (tests/browser/conftest.py adds the skip itself)."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if request.node.get_closest_marker("ledger_may_break") or not (
        marker or names & {"db", "transactional_db"}
    ):
        yield
        return
    # Ask for the database first, so that it is torn down after this check, not before.
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from tokens.selectors import ledger_audit
    from tokens.services import forget_cached_ids

    forget_cached_ids()
    report = ledger_audit()
    assert report.ok, f"ledger_audit found: {report.problems}"


@dataclass
class Personas:
    southwark: Circle
    suffolk: Circle
    alice: Member
    bob: Member
    hana: Member
    hana_helper: Helper
    otto: Member
    cora: Member
    sam: Member
    clara: Member


@pytest.fixture
def personas(db: None) -> Personas:
    southwark = CircleFactory(slug="southwark", name="Southwark Circle", postcode="SE1 7PB")
    suffolk = CircleFactory(
        slug="suffolk", name="Suffolk Circle", postcode="IP1 2AN", radius_km=Decimal("15")
    )

    def person(circle: Circle, name: str, roles: list[str], **extra: object) -> Member:
        user = UserFactory(email=f"{name.split()[0].lower()}@example.org", full_name=name)
        return MemberFactory(circle=circle, user=user, roles=roles, **extra)

    alice = person(
        southwark, "Alice Archer", [RoleName.MEMBER], phone="+447700900001", postcode="SE1 2AA"
    )
    bob = person(
        southwark, "Bob Baker", [RoleName.MEMBER], phone="+447700900002", postcode="SE5 8AB"
    )
    hana = person(
        southwark, "Hana Hughes", [RoleName.HELPER], phone="+447700900003", postcode="SE15 4AA"
    )
    hana_helper = HelperFactory(member=hana)
    otto = person(southwark, "Otto Operator", [RoleName.OPERATOR])
    cora = person(southwark, "Cora Coordinator", [RoleName.COORDINATOR])
    sam = person(
        suffolk,
        "Sam Smith",
        [RoleName.MEMBER],
        postcode="IP4 1AA",
        latitude=Decimal("52.05487"),
        longitude=Decimal("1.16178"),
    )
    clara = person(suffolk, "Clara Coordinator", [RoleName.COORDINATOR])
    return Personas(southwark, suffolk, alice, bob, hana, hana_helper, otto, cora, sam, clara)


@pytest.fixture
def client_for() -> Callable[[Member | User | None], APIClient]:
    """An API client signed in with a real token as that person (None: anonymous)."""

    def make(who: Member | User | None) -> APIClient:
        client = APIClient()
        user = who.user if isinstance(who, Member) else who
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
