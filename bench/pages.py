"""The pages benchmark: server time of a member's pages, beside the JSON API calls each page
replaces, on the same data in the same run.

How to run (PostgreSQL; the role must be allowed to create databases):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/circle_pages_bench \\
        .venv/bin/python bench/pages.py [--requests 300] [--deep-page 200] [--keep] [--explain]

or on SQLite, in a temporary file:

    .venv/bin/python bench/pages.py --sqlite

It makes its own database (on PostgreSQL the URL's name, dropped first if there; on SQLite a
file in a temporary folder), migrates it and seeds, through the real services:

- one circle of `--members` members (1,000), each with a login, active and funded through
  `purchase_credit`; 20 of them helpers; a coordinator who records membership payments
  (`offline_payment_record`);
- the measured member, who joined online (`member_join`) and paid their membership, with
  exactly `--rows` (10,000) entries on their wallet: purchases (`purchase_credit`), gifts to and
  from other members (`transfer_create`), and their tasks: 50 finished (each held with
  `hold_create` and settled with `hold_settle`, some returning what was not used) and 5 in
  progress (2 open, 2 accepted, 1 done and waiting for them to confirm), each holding its
  estimate;
- 200 tasks of other members, held and half of them settled the same way;
- a lighter member (one purchase, one open task), whose pages are measured briefly, so that
  what grows with a member's history shows;

then checks the books (`ledger_audit`) and analyses the tables. No row of the ledger's tables is
written except through `tokens.services`, so its triggers hold for every row.

It measures, in-process with Django's test `Client` (the time of `client.get`, which is the
server's whole work on the request: middleware, view, queries, template or JSON; no network),
after `--warmup` unmeasured rounds, `--requests` rounds of:

- `/my/` (the member's home), signed in with a session (`force_login`), beside its API twin:
  `GET /api/v1/me/` + `GET /api/v1/members/{id}/` + `GET /api/v1/members/{id}/tokens/` +
  `GET /api/v1/tasks/?limit=50` (the member's tasks, newest first, as the page reads them);
- `/my/tokens/` (tokens and statement, first page) beside `GET .../tokens/` +
  `GET .../statement/?limit=25&offset=0`;
- `/my/tokens/?page=200` (a deep page) beside `GET .../tokens/` +
  `GET .../statement/?limit=25&offset=4975` (`--per-page` 25 lines a page);

the API authenticated as an app is, with `Authorization: Token` (rest_framework.authtoken). In each
round the page and its twin's calls take turns (page first in one round, the API first in the
next), so a slow spell of a shared machine falls on both. The twin's time is the sum of its
calls in the same round. It prints p50 and p95 of each page and each twin, the ratio of the
p95s against the target (a page's p95 at most 1.5 times its twin's), the SQL statements each
request sends, for the measured member and for the lighter one, and the slowest statements of
each page; and exits non-zero when a target is missed or a page does not answer 200.

Settings as the test suite has them for speed where it does not matter to what is measured
(MD5 password hashing); DEBUG off at run time (no query log, as production). The settings module
is loaded with its laptop defaults: production mode would redirect plain HTTP to HTTPS and want
collected static files.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import database_drop, database_recreate  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/circle_pages_bench"
RNG_SEED = 20261215
SLUG = "pages-bench"
TARGET = 1.5  # a page's p95 at most this many times its API twin's summed p95
HELPERS = 20
SETTLED_TASKS = 50
OTHER_TASKS = 200
OPENING = 500_000  # the measured member's first purchase: far more than the gifts out spend
FUNDING = 100_000  # minutes each other member buys


# --- Django and the database ------------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circle.settings")
    # Load the settings with their laptop defaults (see the docstring), then run as production.
    os.environ["DEBUG"] = "true"
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


# --- Seeding ----------------------------------------------------------------------------------


@dataclass
class Seeded:
    member: Any  # the measured member
    light: Any  # the lighter member
    tokens: dict[int, str]  # member id -> API token key
    took: dict[str, float] = field(default_factory=dict)


class Tasks:
    """Tasks booked as booking does (the estimate held through `hold_create`), moved on as
    accepting, completing and confirming do (settled through `hold_settle`). The task rows are
    written directly: the matching services would also send offers and texts, which is not what
    is measured here, and would want each window in the future when it is booked."""

    def __init__(self, circle: Any, helpers: list[Any], rng: random.Random) -> None:
        from circle.models import Category

        self.circle, self.helpers, self.rng = circle, helpers, rng
        self.categories = list(Category.objects.filter(circle=circle).order_by("id"))
        self.number = 0

    def book(self, member: Any, status: str, start: datetime, *, rest: bool = False) -> Any:
        from django.utils import timezone

        from matching.models import Task, TaskStatus
        from tokens.services import hold_create, hold_settle

        self.number += 1
        category = self.rng.choice(self.categories)
        minutes = self.rng.choice((60, 90, 120))
        title = f"{category.name} ({self.number})"
        day = start.strftime("%-d %B")
        hold = hold_create(
            member=member,
            minutes=minutes,
            reference=f"task:bench-{self.number}",
            actor=member.user,
            memo=f"Held for {title} on {day}",
        )
        helper = None if status == TaskStatus.OPEN else self.rng.choice(self.helpers)
        done = status in (TaskStatus.COMPLETED, TaskStatus.SETTLED)
        # Done within the estimate; some in less, so the rest goes back to the member.
        billed = minutes - 30 if rest else minutes
        end = start + timedelta(minutes=minutes)
        task = Task.objects.create(
            circle=self.circle,
            member=member,
            category=category,
            title=title,
            details="Bench task",
            window_start=start,
            window_end=end,
            estimated_minutes=minutes,
            # Settled below, as confirming does: the hold first, then the task.
            status=TaskStatus.COMPLETED if status == TaskStatus.SETTLED else status,
            latitude=member.latitude,
            longitude=member.longitude,
            postcode_district=member.postcode.split()[0],
            hold=hold,
            helper=helper,
            booked_by=member.user,
            created_at=min(start - timedelta(days=3), timezone.now()),
            accepted_at=start - timedelta(days=1) if helper else None,
            minutes_reported=billed if done else None,
            minutes_billed=billed if done else None,
            completed_at=end if done else None,
        )
        if status == TaskStatus.SETTLED:
            assert helper is not None
            hold_settle(
                hold=hold,
                minutes_done=billed,
                helper=helper.member,
                actor=member.user,
                memo=f"Paid for {title} on {day}",
            )
            Task.objects.filter(pk=task.pk).update(
                status=TaskStatus.SETTLED, minutes_settled=billed, closed_at=end
            )
        return task


def wallet_plan(rows: int, rng: random.Random) -> list[tuple[str, bool]]:
    """The measured member's history, oldest first, as (event, rest): exactly `rows` entries on
    their wallet. A settled task writes two (the hold, and what was not used coming back) when
    `rest`, else one; everything else writes one."""
    settled = [("settled", rng.random() < 0.5) for _ in range(SETTLED_TASKS)]
    purchases = [("purchase", False)] * (rows // 20)
    in_progress = [("open", False)] * 2 + [("accepted", False)] * 2 + [("completed", False)]
    fixed = 1 + len(purchases) + sum(2 if rest else 1 for _, rest in settled) + len(in_progress)
    if rows < fixed:
        raise SystemExit(f"--rows must be at least {fixed}")
    gifts = [(rng.choice(("gift_out", "gift_in")), False) for _ in range(rows - fixed)]
    middle = purchases + settled + gifts
    rng.shuffle(middle)
    plan = [("opening", False), *middle]
    # Tasks in progress were booked lately: among the last tenth of the history.
    for event in in_progress:
        plan.insert(rng.randint(len(plan) * 9 // 10, len(plan)), event)
    return plan


def seed(members: int, rows: int, rng: random.Random) -> Seeded:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from circle.services import circle_create
    from helpers.models import Helper, HelperKind
    from matching.models import TaskStatus
    from members.models import JoinedVia, Member, MembershipStatus, Role, RoleName, User
    from members.selectors import Caller, caller_for
    from members.services import member_join, role_grant
    from payments.services.offline import offline_payment_record
    from tokens.models import Entry
    from tokens.selectors import ledger_audit
    from tokens.services import purchase_credit, transfer_create, wallet_id

    took: dict[str, float] = {}
    began = time.monotonic()
    call_command("migrate", verbosity=0)
    took["migrate"] = time.monotonic() - began

    began = time.monotonic()
    circle = circle_create(
        slug=SLUG, name="Pages bench", postcode="SE1 7PB", radius_km=Decimal("8")
    )
    nobody = Caller(user=None, member=None, roles=frozenset())

    def join(name: str, email: str) -> Any:
        return member_join(
            circle=circle,
            caller=nobody,
            full_name=name,
            phone="020 7946 0018",
            date_of_birth=date(1948, 5, 17),
            address_line1="12 Bench Road",
            postcode="SE1 7PB",
            email=email,
            password="correct horse battery staple",  # noqa: S106 (a bench login)
        )

    mary = join("Mary Bench", "mary@example.org")
    light = join("Lena Light", "lena@example.org")
    unusable = make_password(None)
    others = members - 2
    users = User.objects.bulk_create(
        User(email=f"member{i}@example.org", full_name=f"Member{i} Bench", password=unusable)
        for i in range(others)
    )
    crowd = Member.objects.bulk_create(
        Member(
            circle=circle,
            user=user,
            full_name=user.full_name,
            email=user.email,
            phone="+442079460018",
            date_of_birth=date(1950, 1, 1),
            address_line1=f"{i} Bench Street",
            postcode=mary.postcode,
            latitude=mary.latitude,
            longitude=mary.longitude,
            membership_status=MembershipStatus.ACTIVE,
            joined_via=JoinedVia.ONLINE,
        )
        for i, user in enumerate(users)
    )
    Role.objects.bulk_create(
        Role(circle=circle, member=member, role=RoleName.MEMBER) for member in crowd
    )
    helper_members = crowd[:HELPERS]
    Role.objects.bulk_create(
        Role(circle=circle, member=member, role=RoleName.HELPER) for member in helper_members
    )
    helpers = Helper.objects.bulk_create(
        Helper(
            circle=circle,
            member=member,
            kind=HelperKind.VOLUNTEER,
            postcode=member.postcode,
            latitude=member.latitude,
            longitude=member.longitude,
            travel_radius_km=Decimal("5"),
            vetting_level="basic",
        )
        for member in helper_members
    )
    for helper, member in zip(helpers, helper_members, strict=True):
        helper.member = member
    coordinator = crowd[HELPERS]
    role_grant(member=coordinator, role=RoleName.COORDINATOR)
    staff = caller_for(user=coordinator.user, circle=circle)
    for i, member in enumerate((mary, light)):
        offline_payment_record(
            member=member,
            caller=staff,
            purpose="membership",
            method="cash",
            reference=f"BENCH-{i}",
        )
    took["members"] = time.monotonic() - began

    began = time.monotonic()
    for member in crowd:
        purchase_credit(
            member=member, minutes=FUNDING, payment_key=f"bench-{member.pk}", actor=None
        )
    # Ids read outside any transaction are cached for the process, as a server's warm cache.
    for member in (mary, light, *crowd):
        wallet_id(member)
    took["funding"] = time.monotonic() - began

    began = time.monotonic()
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    tasks = Tasks(circle, helpers, rng)
    partners = crowd[HELPERS + 1 :]  # neither helpers nor the coordinator
    plan = wallet_plan(rows, rng)
    settled_done = 0
    in_progress_days = {"open": (3, 9), "accepted": (1, 5), "completed": (-1,)}
    for n, (event, rest) in enumerate(plan):
        if event == "opening":
            purchase_credit(member=mary, minutes=OPENING, payment_key="bench-opening", actor=None)
        elif event == "purchase":
            purchase_credit(
                member=mary,
                minutes=rng.choice((600, 1200, 3000)),
                payment_key=f"bench-mary-{n}",
                actor=mary.user,
                memo="Tokens bought",
            )
        elif event in ("gift_out", "gift_in"):
            other = rng.choice(partners)
            source, destination = (mary, other) if event == "gift_out" else (other, mary)
            transfer_create(
                source=source,
                destination=destination,
                minutes=rng.choice((15, 30, 60, 90)),
                memo=rng.choice(("Thank you", "For the lift", "Happy birthday", "")),
                actor=source.user,
                idempotency_key=f"bench-gift-{n}",
            )
        elif event == "settled":
            settled_done += 1
            # One a week, the last a few days ago.
            start = now - timedelta(days=7 * (SETTLED_TASKS - settled_done) + 3, hours=2)
            tasks.book(mary, TaskStatus.SETTLED, start, rest=rest)
        else:
            days = in_progress_days[event]
            pick = days[0] if len(days) == 1 else rng.randint(*days)
            tasks.book(mary, event, now + timedelta(days=pick, hours=1))
    for _ in range(OTHER_TASKS):
        member = rng.choice(partners)
        status = rng.choice(
            [TaskStatus.SETTLED] * 5 + [TaskStatus.OPEN] * 3 + [TaskStatus.ACCEPTED] * 2
        )
        offset = rng.randint(-200, -2) if status == TaskStatus.SETTLED else rng.randint(1, 14)
        tasks.book(member, status, now + timedelta(days=offset, hours=rng.randint(0, 8)))
    purchase_credit(member=light, minutes=600, payment_key="bench-light", actor=light.user)
    tasks.book(light, TaskStatus.OPEN, now + timedelta(days=4))
    took["ledger"] = time.monotonic() - began

    began = time.monotonic()
    on_wallet = Entry.objects.filter(account_id=wallet_id(mary)).count()
    if on_wallet != rows:
        raise RuntimeError(f"the measured wallet has {on_wallet} entries, not {rows}")
    report = ledger_audit(circle=circle)
    if not report.ok:
        raise RuntimeError(f"ledger_audit found: {report.problems[:5]}")
    tokens = {m.pk: Token.objects.create(user=m.user).key for m in (mary, light)}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if connection.vendor == "postgresql":
        # Outside any transaction: the visibility map lets index-only scans skip the heap, as
        # autovacuum would have it in a live database.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    took["check and analyse"] = time.monotonic() - began
    fresh = {m.pk: Member.objects.get(pk=m.pk) for m in (mary, light)}
    return Seeded(fresh[mary.pk], fresh[light.pk], tokens, took)


# --- Measuring --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Comparison:
    label: str
    page: str
    twin: list[tuple[str, str]]  # (label, path) of each API call
    page_ms: list[float] = field(default_factory=list)
    call_ms: dict[str, list[float]] = field(default_factory=dict)
    twin_ms: list[float] = field(default_factory=list)  # the calls' sum, round by round
    # This process's CPU time, which a busy machine's other work does not inflate.
    page_cpu: list[float] = field(default_factory=list)
    twin_cpu: list[float] = field(default_factory=list)
    failed: str = ""


def comparisons(member_id: int, deep_page: int, per_page: int) -> list[Comparison]:
    me = f"/api/v1/members/{member_id}"
    tokens = ("tokens", f"{me}/tokens/")
    deep = (deep_page - 1) * per_page
    return [
        Comparison(
            "home",
            "/my/",
            [
                ("me", "/api/v1/me/"),
                ("member", f"{me}/"),
                tokens,
                ("tasks", "/api/v1/tasks/?limit=50"),
            ],
        ),
        Comparison(
            "statement, first page",
            "/my/tokens/",
            [tokens, ("statement", f"{me}/statement/?limit={per_page}&offset=0")],
        ),
        Comparison(
            f"statement, page {deep_page}",
            f"/my/tokens/?page={deep_page}",
            [tokens, ("statement", f"{me}/statement/?limit={per_page}&offset={deep}")],
        ),
    ]


class Clients:
    """A signed-in browser for the pages, an app with a token for the API."""

    def __init__(self, member: Any, token: str) -> None:
        from django.test import Client

        self.page = Client(HTTP_ACCEPT="text/html,application/xhtml+xml")
        self.page.force_login(member.user)
        self.api = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")

    def get(self, path: str, *, api: bool) -> tuple[float, Any]:
        ms, _, response = self.timed(path, api=api)
        return ms, response

    def timed(self, path: str, *, api: bool) -> tuple[float, float, Any]:
        """(wall ms, this thread's CPU ms, response)."""
        client = self.api if api else self.page
        cpu, began = time.thread_time(), time.perf_counter()
        response = client.get(path)
        wall = (time.perf_counter() - began) * 1000
        return wall, (time.thread_time() - cpu) * 1000, response


def check_pages(clients: Clients, items: list[Comparison], deep_page: int) -> None:
    """Each page must answer 200 (a page that does not is marked failed and not measured); each
    API call must, or the benchmark itself is wrong."""
    bodies = {}
    for item in items:
        _, response = clients.get(item.page, api=False)
        if response.status_code != 200:
            item.failed = f"{item.page} answered {response.status_code}, not 200"
        else:
            bodies[item.page] = response.content
        for label, path in item.twin:
            _, response = clients.get(path, api=True)
            if response.status_code != 200:
                raise RuntimeError(f"API {label} {path} answered {response.status_code}")
    first, deep = bodies.get("/my/tokens/"), bodies.get(f"/my/tokens/?page={deep_page}")
    if first is not None and first == deep:
        for item in items:
            if item.page.endswith(f"?page={deep_page}"):
                item.failed = f"{item.page} shows the same as the first page"


def run_rounds(
    clients: Clients, items: list[Comparison], rounds: int, *, keep: bool
) -> list[float]:
    """`rounds` rounds of every page and its twin, taking turns; returns the times of an empty
    request (a JSON 404 under /api/, no query), the floor every request stands on."""
    floor = []
    for n in range(rounds):
        for item in items:
            if item.failed:
                continue

            def page(item: Comparison = item) -> None:
                ms, cpu, response = clients.timed(item.page, api=False)
                if response.status_code != 200:
                    raise RuntimeError(f"{item.page} answered {response.status_code}")
                if keep:
                    item.page_ms.append(ms)
                    item.page_cpu.append(cpu)

            def twin(item: Comparison = item) -> None:
                total = total_cpu = 0.0
                for label, path in item.twin:
                    ms, cpu, response = clients.timed(path, api=True)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path} answered {response.status_code}")
                    total += ms
                    total_cpu += cpu
                    if keep:
                        item.call_ms.setdefault(label, []).append(ms)
                if keep:
                    item.twin_ms.append(total)
                    item.twin_cpu.append(total_cpu)

            sides: list[Callable[[], None]] = [page, twin] if n % 2 == 0 else [twin, page]
            for side in sides:
                side()
        ms, response = clients.get("/api/v1/bench-nothing/", api=True)
        if response.status_code != 404:
            raise RuntimeError(f"the empty request answered {response.status_code}")
        floor.append(ms)
    return floor


@dataclass
class Statements:
    count: int
    sql_ms: float  # the median over the samples of the statements' summed time
    statements: list[tuple[float, str]]  # (median ms, sql), in the order sent

    @property
    def slowest(self) -> list[tuple[float, str]]:
        return sorted(self.statements, reverse=True)[:3]


class Timer:
    """An execute wrapper that times each statement with the process's clock (Django's own
    query log keeps milliseconds only to three decimals of a second)."""

    def __init__(self) -> None:
        self.run: list[tuple[float, str]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.run.append(((time.perf_counter() - began) * 1000, _interpolate(sql, params)))


def _interpolate(sql: str, params: Any) -> str:
    """The statement with its parameters, for reading and for EXPLAIN (PostgreSQL's quoting)."""
    from django.db import connection

    if connection.vendor == "postgresql" and params:
        with connection.cursor() as cursor:
            return cursor.cursor.mogrify(sql, params).decode()
    try:
        return sql % tuple(f"'{p}'" if isinstance(p, str) else repr(p) for p in params or ())
    except (TypeError, ValueError):
        return sql


def statements(clients: Clients, path: str, *, api: bool, samples: int = 15) -> Statements:
    """The SQL statements one request sends, with their times (the median of `samples`)."""
    from django.db import connection

    runs = []
    for _ in range(samples):
        timer = Timer()
        with connection.execute_wrapper(timer):
            _, response = clients.get(path, api=api)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        runs.append(timer.run)
    counts = {len(run) for run in runs}
    if len(counts) != 1:
        raise RuntimeError(f"{path} sent {sorted(counts)} statements on different requests")
    by_position = [
        (statistics.median(run[i][0] for run in runs), runs[0][i][1]) for i in range(len(runs[0]))
    ]
    total = statistics.median(sum(ms for ms, _ in run) for run in runs)
    return Statements(len(runs[0]), total, by_position)


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return [line for (line,) in cursor.fetchall()]


# --- The run ----------------------------------------------------------------------------------


def server_line() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('jit'),"
            " current_setting('shared_buffers')"
        )
        version, jit, buffers = cursor.fetchone()
    return f"PostgreSQL {version}, jit {jit} (this session), shared_buffers {buffers}"


def short(sql: str, width: int = 150) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def report(items: list[Comparison], floor: list[float]) -> bool:
    header = (
        f"{'page':<24}{'n':>5}{'p50 ms':>8}{'p95 ms':>8}   {'API twin (summed)':<32}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p95 ratio':>11}  target"
    )
    print(header)
    print("-" * len(header))
    passed = True
    for item in items:
        calls = " + ".join(label for label, _ in item.twin)
        if item.failed:
            passed = False
            print(f"{item.page:<24}  FAIL: {item.failed}")
            continue
        p95, t95 = pct(item.page_ms, 0.95), pct(item.twin_ms, 0.95)
        ratio = p95 / t95
        ok = ratio <= TARGET
        passed &= ok
        print(
            f"{item.page:<24}{len(item.page_ms):>5}{pct(item.page_ms, 0.5):>8.1f}{p95:>8.1f}"
            f"   {calls:<32}{pct(item.twin_ms, 0.5):>8.1f}{t95:>8.1f}{ratio:>11.2f}"
            f"  <= {TARGET:g}: {'PASS' if ok else 'FAIL'}"
        )
    print()
    print("the API calls one by one (p50 / p95 ms):")
    for item in items:
        if item.failed:
            continue
        parts = [
            f"{label} {pct(ms, 0.5):.1f} / {pct(ms, 0.95):.1f}"
            for label, ms in item.call_ms.items()
        ]
        print(f"  {item.label}: " + "; ".join(parts))
    print("this process's CPU time per request, p50 / p95 ms (page; twin summed):")
    for item in items:
        if item.failed:
            continue
        print(
            f"  {item.page}: {pct(item.page_cpu, 0.5):.1f} / {pct(item.page_cpu, 0.95):.1f};"
            f" {pct(item.twin_cpu, 0.5):.1f} / {pct(item.twin_cpu, 0.95):.1f}"
        )
    print(
        f"an empty request (GET /api/v1/bench-nothing/, a JSON 404, no SQL): p50"
        f" {pct(floor, 0.5):.2f} ms, p95 {pct(floor, 0.95):.2f} ms; a twin of n calls pays it"
        " n times"
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="members in the circle")
    parser.add_argument("--rows", type=int, default=10_000, help="entries on the measured wallet")
    parser.add_argument("--requests", type=int, default=300, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured rounds before")
    parser.add_argument("--deep-page", type=int, default=200, help="the deep statement page")
    parser.add_argument("--per-page", type=int, default=25, help="statement lines a page")
    parser.add_argument("--sqlite", action="store_true", help="SQLite in a temporary file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--explain", action="store_true", help="PostgreSQL: the plan of each page's slowest SQL"
    )
    parser.add_argument("--sql", action="store_true", help="print every statement of each page")
    args = parser.parse_args()
    if args.members < HELPERS + 3:
        parser.error(f"--members must be at least {HELPERS + 3}")

    folder: Path | None = None
    if args.sqlite:
        folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
    else:
        url = os.environ.get("DATABASE_URL") or DEFAULT_URL
        if not url.startswith(("postgres://", "postgresql://")):
            parser.error("without --sqlite the benchmark needs DATABASE_URL=postgres://...")
        database_recreate(url)
    setup_django(url)
    from django.db import connection

    # Each empty request below would log a warning of its 404, each sign-in a line of axes'.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("axes").setLevel(logging.WARNING)
    # WhiteNoise looks for collected static files, which the pages do not need here.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

    try:
        began = time.monotonic()
        seeded = seed(args.members, args.rows, random.Random(RNG_SEED))
        stages = ", ".join(f"{stage} {s:.0f} s" for stage, s in seeded.took.items())
        print(f"seeded in {time.monotonic() - began:.0f} s ({stages})")
        print(f"  {server_line()}")
        counts = {}
        with connection.cursor() as cursor:
            for label, table in (
                ("members", "members_member"),
                ("ledger transactions", "tokens_transaction"),
                ("entries", "tokens_entry"),
                ("tasks", "matching_task"),
                ("audit rows", "members_auditevent"),
            ):
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                counts[label] = cursor.fetchone()[0]
        print("  " + ", ".join(f"{label} {n:,}" for label, n in counts.items()))
        print(
            f"  the measured member: {args.rows:,} entries on their wallet,"
            f" {SETTLED_TASKS} tasks settled and 5 in progress"
        )

        heavy = Clients(seeded.member, seeded.tokens[seeded.member.pk])
        items = comparisons(seeded.member.pk, args.deep_page, args.per_page)
        check_pages(heavy, items, args.deep_page)
        for item in items:
            if item.failed:
                print(f"FAIL: {item.failed}", file=sys.stderr)
        run_rounds(heavy, items, args.warmup, keep=False)
        floor = run_rounds(heavy, items, args.requests, keep=True)

        # The same pages for a member with one ledger row and one task: what grows with history.
        light = Clients(seeded.light, seeded.tokens[seeded.light.pk])
        light_items = comparisons(seeded.light.pk, 1, args.per_page)[:2]
        check_pages(light, light_items, 1)
        run_rounds(light, light_items, 10, keep=False)
        run_rounds(light, light_items, 50, keep=True)

        print()
        print(
            f"cores: {os.cpu_count()}; times in ms of the test Client's get, in-process;"
            f" {args.requests} rounds after {args.warmup} unmeasured; page and API take turns"
        )
        print()
        passed = report(items, floor)

        print()
        print(
            "SQL statements per request (count, and their summed time in ms, median of 15),"
            " for the measured member and for a member with one ledger row and one task:"
        )
        header = f"  {'request':<52}{'measured':>14}{'light':>14}"
        print(header)
        slow: dict[str, Statements] = {}
        for item, light_item in zip(items, [*light_items, None], strict=True):
            for label, path, api in [("page", item.page, False)] + [
                (label, path, True) for label, path in item.twin
            ]:
                if not api and item.failed:
                    continue
                mine = statements(heavy, path, api=api)
                theirs = None
                if light_item is not None and (api or not light_item.failed):
                    light_path = light_item.page if not api else dict(light_item.twin)[label]
                    theirs = statements(light, light_path, api=api)
                if not api:
                    slow[path] = mine
                shown = path.replace(f"/{seeded.member.pk}/", "/{id}/")
                other = f"{theirs.count:>4} {theirs.sql_ms:>7.2f}" if theirs else ""
                print(f"  {shown:<52}{mine.count:>6} {mine.sql_ms:>7.2f}{other:>14}")
        if light_items[0].page_ms:
            light_line = ", ".join(
                f"{item.page} p50 {pct(item.page_ms, 0.5):.1f} ms"
                f" (twin {pct(item.twin_ms, 0.5):.1f})"
                for item in light_items
                if not item.failed
            )
            print(f"  the light member's pages: {light_line}")
        print()
        print("the slowest statements of each page (median ms of 15 requests):")
        for path, found in slow.items():
            print(f"  {path}")
            for ms, sql in found.slowest:
                print(f"    {ms:7.2f}  {short(sql)}")
            if args.sql:
                print("    every statement, in the order sent:")
                for ms, sql in found.statements:
                    print(f"    {ms:7.2f}  {short(sql, 400)}")
            if args.explain and connection.vendor == "postgresql" and found.slowest:
                for line in explain(found.slowest[0][1]):
                    print(f"             {line}")
        return 0 if passed else 1
    finally:
        connection.close()
        if args.keep:
            print(f"kept {connection.settings_dict['NAME']}")
        elif folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            database_drop(url)


if __name__ == "__main__":
    sys.exit(main())
