"""The load test: Circle's API under a mix of its four kinds of people and Stripe, served as in
production (gunicorn with deploy/gunicorn.conf.py, PostgreSQL, Redis, a real Celery worker),
then each endpoint alone beside two reference views measured in the same run.

How to run (PostgreSQL and Redis; the role must be allowed to create databases; needs the
`bench` extra: `.venv/bin/pip install -e ".[bench]"`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/circle_load_bench \\
        .venv/bin/python bench/load.py [--users 20] [--mix-seconds 90] [--alone-users 10] \\
        [--alone-seconds 5] [--rounds 3] [--only NAME ...] [--no-alone] [--no-floors] \\
        [--redis redis://127.0.0.1:6379/7] [--keep]

It takes about eleven minutes on the 2-core development machine. It makes its own database (the
URL's name, dropped first), migrates it and seeds `--circles` (20) circles, each of `--members`
(2,000) members and `--helpers` (200) helpers, 3 operators and 2 coordinators, every one with a
login and an API token. The rows are written with `COPY` (one password hash, made once, for
every login; DRF token rows copied too), not through the services one by one; the ledger is
written as the ledger's own statement writes it (transactions, then their entries, whose
triggers move the balances and check the books): one purchase a member, a circle's in one
statement. Helpers are vetted (enhanced), have every skill, a 15 km radius and, for half of
them, weekly availability; each circle starts with 40 open tasks (booked as booking does:
`hold_create`, then the task row). For the webhooks, `--events` (4,000) token purchases are
started and paid in the local Stripe (`payments.stripe_local`, in this process), each with its
checkout row, so that each `checkout.session.completed` it makes credits a member once; locust
signs each event as it sends it (`--events` is 6,000: more than the mix and three rounds of
the webhook alone send, so none is a replay).

Then it starts gunicorn (deploy/gunicorn.conf.py, with `bench.load_settings`: Circle's
settings in production mode plus the two reference views) and a Celery worker on Redis (db 7 by
default, emptied first), and runs locust headless (bench/locustfile.py, FastHttpUser, no wait
between requests):

1. the mix, `--users` at once for `--mix-seconds` after `--warmup` unmeasured seconds: members
   read their home (`/me/`, `/members/{id}/tokens/`) and statement and book tasks; helpers poll
   their feed and accept a task from it (409 when another helper was first: expected, not an
   error); operators search for callers and record cash; coordinators read the ledger's
   transactions and balances; Stripe delivers webhooks. One table: each endpoint's requests
   per second, p50/p95/p99 and errors.
2. each endpoint alone, `--alone-users` at once for `--alone-seconds`, each run just after a
   run of its reference at the same concurrency, and each reference once more at the end; the
   whole sequence `--rounds` times over. Each round's run is read against the mean of its
   reference's runs either side of it (the machine's speed drifts over minutes: the write
   reference, whose INSERT waits on the WAL, moved between 129 and 315 requests/s within one
   run), and an endpoint's ratio is the median of its rounds'. The references (bench/load_urls.py):
   `GET /bench/read/`, a DRF view with token authentication answering a constant, for reads;
   `POST /bench/write/`, the same doing one INSERT, for writes. Target: every endpoint at
   least 0.5 of its reference's requests per second.
   Booking and accepting are each followed by their floor (bench/load_urls.py): the least
   either could do and still be what DESIGN.md calls it, in plain SQL with none of Circle's
   code, read against the same reference. A floor has no target; it is the most its endpoint
   could reach on this machine (`--no-floors` leaves them out).

Every run ends when the Celery worker has done the jobs it queued (the broker's queue empty,
nothing unacknowledged), so that the next run starts on an idle worker; and each alone run's
line says the servers' CPU a request (gunicorn, the worker, PostgreSQL, Redis, from every
process on the machine: they share its cores), from its start to that end.

Afterwards it stops the servers, runs `ledger_audit` over every circle and prints the tables.
It exits non-zero on any error, a missed target or a ledger problem. The database is dropped
at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import database_drop, database_recreate  # noqa: E402
from bench.load_endpoints import ENDPOINT_KINDS, FLOORS  # noqa: E402
from bench.matching import Loader, next_id, sectors  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/circle_load_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
RNG_SEED = 20261201
TARGET = 0.5  # an endpoint alone: at least this share of its reference's requests per second
PASSWORD = "load test password 2026"  # noqa: S105 (the bench's logins, in a throwaway database)
FUNDING = 60_000  # minutes each member starts with: far more than a run's bookings hold
OPEN_TASKS = 40  # per circle, at the start
# The runs that take open tasks: each starts from the circles' open tasks as they are then.
ACCEPTS = ("POST /api/v1/tasks/{id}/accept/", "POST /bench/floor/accept/{id}/")
OPERATORS, COORDINATORS = 3, 2
BIN = Path(sys.executable).parent
LONDON = ZoneInfo("Europe/London")
FIRST_NAMES = [
    *("Mary", "Margaret", "Patricia", "Joan", "Dorothy", "Jean", "Barbara", "Elizabeth"),
    *("Susan", "Linda", "Ann", "Christine", "John", "David", "Michael", "Peter", "Robert"),
    *("James", "William", "Brian", "Alan", "Kenneth", "Anthony", "George"),
]
SURNAMES = [
    *("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas"),
    *("Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards"),
    *("Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson"),
]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circle.settings")
    import django

    django.setup()


# --- Seeding ----------------------------------------------------------------------------------


@dataclass
class Seeded:
    circles: list[dict[str, Any]]
    events: list[dict[str, Any]]
    webhook_secret: str
    took: dict[str, float]


def seed(args: argparse.Namespace, rng: random.Random) -> Seeded:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from djmoney.money import Money

    from circle.models import Category
    from circle.services import circle_create
    from helpers.models import Helper
    from matching.models import Task
    from members.models import Member, User
    from payments.models import CheckoutSession, CheckoutStatus, PaymentPurpose
    from payments.stripe_local import LocalStripe
    from tokens.models import Account, AccountKind, TransactionKind
    from tokens.services import hold_create, system_account_id

    took: dict[str, float] = {}
    began = time.monotonic()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_load_write (id bigserial PRIMARY KEY, user_id bigint NOT NULL,"
            " created_at timestamptz NOT NULL)"
        )
    took["migrate"] = time.monotonic() - began

    began = time.monotonic()
    password = make_password(PASSWORD)  # the one hashing: every login shares it
    places = sectors()
    rng.shuffle(places)
    now = timezone.now()
    users = Loader(
        "members_user",
        [
            "id",
            "password",
            "is_superuser",
            "email",
            "full_name",
            "is_active",
            "is_staff",
            "date_joined",
        ],
    )
    members = Loader(
        "members_member",
        [
            "id",
            "circle_id",
            "user_id",
            "full_name",
            "email",
            "phone",
            "date_of_birth",
            "address_line1",
            "postcode",
            "latitude",
            "longitude",
            "membership_status",
            "joined_via",
            "created_at",
        ],
    )
    roles = Loader("members_role", ["circle_id", "member_id", "role", "granted_at"])
    helpers = Loader(
        "helpers_helper",
        [
            "id",
            "circle_id",
            "member_id",
            "kind",
            "postcode",
            "latitude",
            "longitude",
            "travel_radius_km",
            "vetting_level",
            "suspended",
            "suspended_reason",
            "paused",
            "created_at",
        ],
    )
    skills = Loader("helpers_helperskill", ["circle_id", "helper_id", "category_id"])
    slots = Loader(
        "helpers_availabilityslot", ["circle_id", "helper_id", "weekday", "start", "end"]
    )
    accounts = Loader(
        "tokens_account", ["id", "circle_id", "kind", "member_id", "balance", "created_at"]
    )
    api_tokens = Loader("authtoken_token", ["key", "user_id", "created"])
    staff_users: list[int] = []
    user_id, member_id = next_id("members_user"), next_id("members_member")
    helper_id, account_id = next_id("helpers_helper"), next_id("tokens_account")
    circles: list[dict[str, Any]] = []
    wallets: dict[int, list[int]] = {}  # circle id -> member wallets to fund
    for n in range(args.circles):
        place = places[n]
        circle = circle_create(
            slug=f"load-{n + 1}",
            name=f"Load {n + 1}",
            postcode=place.postcode,
            radius_km=Decimal("10"),
        )
        categories = list(Category.objects.filter(circle=circle).order_by("id"))
        info: dict[str, Any] = {
            "id": circle.pk,
            "slug": circle.slug,
            "postcode": place.postcode,
            "categories": [c.slug for c in categories],
            "first_names": FIRST_NAMES,
            "surnames": SURNAMES,
            "members": [],
            "helpers": [],
            "operators": [],
            "coordinators": [],
            "phones": [],
        }
        wallets[circle.pk] = []
        people = (
            [("member", i) for i in range(args.members)]
            + [("helper", i) for i in range(args.helpers)]
            + [("operator", i) for i in range(OPERATORS)]
            + [("coordinator", i) for i in range(COORDINATORS)]
        )
        for role, i in people:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            email = f"{role}{i}@{circle.slug}.example.org"
            digits = f"{rng.randrange(1_000_000):06d}"
            key = secrets.token_hex(20)
            # Homes within about a kilometre of the circle's centre: every helper reaches them.
            latitude = round(place.latitude + rng.uniform(-0.008, 0.008), 5)
            longitude = round(place.longitude + rng.uniform(-0.012, 0.012), 5)
            users.add(user_id, password, False, email, name, True, False, now)
            members.add(
                member_id,
                circle.pk,
                user_id,
                name,
                email,
                f"+447700{digits}",
                f"{rng.randint(1935, 1970)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                f"{rng.randint(1, 200)} Load Street",
                place.postcode,
                latitude,
                longitude,
                "active",
                "online" if role != "helper" else "helper_signup",
                now,
            )
            roles.add(circle.pk, member_id, role, now)
            api_tokens.add(key, user_id, now)
            if role in ("member", "helper"):
                accounts.add(account_id, circle.pk, AccountKind.WALLET, member_id, 0, now)
                account_id += 1
            if role == "member":
                info["members"].append([member_id, key])
                wallets[circle.pk].append(account_id - 1)
                if i % 50 == 0:
                    info["phones"].append(f"07700 {digits}")
            elif role == "helper":
                helpers.add(
                    helper_id,
                    circle.pk,
                    member_id,
                    "volunteer",
                    place.postcode,
                    latitude,
                    longitude,
                    "15.0",
                    "enhanced",
                    False,
                    "",
                    False,
                    now,
                )
                for category in categories:
                    skills.add(circle.pk, helper_id, category.pk)
                if i % 2:  # half say when they can help; the other half, any time
                    for weekday in range(7):
                        slots.add(circle.pk, helper_id, weekday, "08:00", "20:00")
                info["helpers"].append([helper_id, key])
                helper_id += 1
            else:
                info[f"{role}s"].append(key)
                # Production requires staff two-factor (STAFF_TWO_FACTOR): their tokens were
                # issued with a code from an authenticator app, which they hold.
                staff_users.append(user_id)
            user_id += 1
            member_id += 1
        circles.append(info)
    for loader in (users, members, roles, helpers, skills, slots, accounts, api_tokens):
        loader.flush()
    TOTPDevice.objects.bulk_create(
        TOTPDevice(user_id=pk, name="Authenticator app", confirmed=True) for pk in staff_users
    )
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [User, Member, Helper, Account]):
            cursor.execute(sql)
        # Statistics for the copied tables, so the ledger's statements below are planned for
        # tens of thousands of rows, not for the empty tables of a fresh migration.
        cursor.execute("ANALYZE")
    took["people (COPY)"] = time.monotonic() - began

    began = time.monotonic()
    for circle_id, wallet_ids in wallets.items():
        issuance = system_account_id(circle_id, AccountKind.ISSUANCE)
        for kind in (AccountKind.POT, AccountKind.ESCROW, AccountKind.PAID_HELP):
            system_account_id(circle_id, kind)
        # One purchase a member, as `purchase_credit` writes it (issuance -> wallet), all of a
        # circle's in one statement shaped like the ledger's own (tokens.services.posting): the
        # transactions, then their entries, whose triggers lock the accounts, move the
        # balances and, at commit, check each transaction balances.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                WITH wallet AS (
                    SELECT id, member_id FROM tokens_account WHERE id = ANY(%(wallets)s)
                ), tx AS (
                    INSERT INTO tokens_transaction (circle_id, kind, memo, idempotency_key,
                        member_id, actor_id, reverses_id, created_at)
                    SELECT %(circle)s, %(kind)s, 'Tokens bought',
                        'purchase:load-opening-' || member_id, member_id, NULL, NULL,
                        transaction_timestamp()
                    FROM wallet
                    RETURNING id, member_id
                )
                INSERT INTO tokens_entry (transaction_id, account_id, minutes)
                SELECT tx.id, wallet.id, %(minutes)s FROM tx JOIN wallet USING (member_id)
                UNION ALL
                SELECT tx.id, %(issuance)s, -%(minutes)s FROM tx
                """,
                {
                    "wallets": wallet_ids,
                    "circle": circle_id,
                    "kind": TransactionKind.PURCHASE,
                    "minutes": FUNDING,
                    "issuance": issuance,
                },
            )
    took["funding"] = time.monotonic() - began

    began = time.monotonic()
    number = 0
    for info in circles:
        askers = list(
            Member.objects.filter(pk__in=[m for m, _ in info["members"][:OPEN_TASKS]])
            .select_related("circle", "user")
            .order_by("id")
        )
        by_slug = {c.slug: c for c in Category.objects.filter(circle_id=info["id"])}
        rows = []
        for member in askers:
            number += 1
            day = now.astimezone(LONDON).date() + timedelta(days=rng.randint(1, 6))
            start = datetime(day.year, day.month, day.day, 10, tzinfo=LONDON)
            hold = hold_create(
                member=member,
                minutes=60,
                reference=f"task:load-{number}",
                actor=member.user,
                memo="Held for the load test",
            )
            rows.append(
                Task(
                    circle_id=info["id"],
                    member=member,
                    category=by_slug[rng.choice(info["categories"])],
                    title="Help at home",
                    details="Seeded by the load test.",
                    window_start=start,
                    window_end=start + timedelta(hours=3),
                    estimated_minutes=60,
                    latitude=member.latitude,
                    longitude=member.longitude,
                    postcode_district=member.postcode.split()[0],
                    hold=hold,
                    booked_by=member.user,
                    created_at=now,
                )
            )
        Task.objects.bulk_create(rows)
    took["open tasks"] = time.monotonic() - began

    began = time.monotonic()
    secret = "whsec_load" + secrets.token_hex(16)
    stripe = LocalStripe(webhook_secret=secret)
    events: list[dict[str, Any]] = []
    checkouts = []
    for _ in range(args.events):
        info = rng.choice(circles)
        member_pk = rng.choice(info["members"])[0]
        session = stripe.session_create(
            {
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": "1",
                        "price_data": {
                            "currency": "gbp",
                            "unit_amount": "1000",
                            "product_data": {"name": "A token (1 hour of help)"},
                        },
                    }
                ],
                "metadata": {"member_id": str(member_pk)},
            }
        )
        events.extend(stripe.complete(session["id"]))
        checkouts.append(
            CheckoutSession(
                circle_id=info["id"],
                member_id=member_pk,
                purpose=PaymentPurpose.TOKENS,
                tokens=1,
                amount=Money(Decimal("10.00"), "GBP"),
                status=CheckoutStatus.OPEN,
                stripe_session_id=session["id"],
                url=session["url"],
            )
        )
    CheckoutSession.objects.bulk_create(checkouts, batch_size=2000)
    took["Stripe events"] = time.monotonic() - began

    began = time.monotonic()
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    took["vacuum"] = time.monotonic() - began
    return Seeded(circles, events, secret, took)


def open_task_ids(circles: list[dict[str, Any]]) -> list[list[int]]:
    """Each circle's open tasks whose window has not ended, oldest first."""
    from django.utils import timezone

    from matching.models import Task, TaskStatus

    return [
        list(
            Task.objects.filter(
                circle_id=info["id"], status=TaskStatus.OPEN, window_end__gt=timezone.now()
            )
            .order_by("id")
            .values_list("id", flat=True)
        )
        for info in circles
    ]


# --- The servers ------------------------------------------------------------------------------


def server_env(args: argparse.Namespace, url: str, secret: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.load_settings",
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": "http://127.0.0.1",
            # Plain HTTP on the loopback: no proxy in front to say the request was HTTPS.
            "SECURE_SSL_REDIRECT": "0",
            "CACHE_URL": args.redis,
            "CELERY_BROKER_URL": args.redis,
            "STRIPE_SECRET_KEY": "sk_test_load",
            "STRIPE_WEBHOOK_SECRET": secret,
            # Nothing in the run calls Stripe's API; were it to, it would fail, not reach Stripe.
            "STRIPE_API_BASE": "http://127.0.0.1:9",
            # Emails and texts are kept in memory, as the test suite's are. The console
            # backends printed every message, which the worker turned into a log record a line
            # (46,000 in a run): that measured the console, where a real gateway is a request
            # the worker waits on.
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "SMS_BACKEND": "circle.sms.LocmemBackend",
            "BIND": f"127.0.0.1:{args.port}",
            "PYTHONPATH": str(ROOT),
        }
    )
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    return env


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


class Servers:
    """gunicorn and a Celery worker, started and stopped by their process ids."""

    def __init__(self, env: dict[str, str], folder: Path, port: int) -> None:
        self.env, self.folder, self.port = env, folder, port
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self._spawn(
            "worker",
            [str(BIN / "celery"), "-A", "circle", "worker", "--concurrency=2", "-l", "WARNING"],
        )
        self._spawn("gunicorn", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"])
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/healthz", timeout=2
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer; see {self.folder}/gunicorn.log")

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(  # noqa: S603 (our own commands)
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- locust -----------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    requests: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float
    # CPU milliseconds a request, by kind of process (CPU_KINDS), over the whole run and the
    # worker's jobs it left queued; and how long those took to finish after it.
    cpu: dict[str, float] = field(default_factory=dict)
    drained: float = 0.0


# Where a request's CPU goes: every process on the machine, named by what its command line
# runs (PostgreSQL's backends and Redis are the machine's too: they share its cores). Locust's
# runs, reaped by this process, fall under "other" with it.
CPU_KINDS = ("gunicorn", "celery", "postgres", "redis")


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each kind of process on the machine (with their reaped
    children: gunicorn's recycled workers count for gunicorn)."""
    import psutil  # locust's own dependency

    used = dict.fromkeys((*CPU_KINDS, "other"), 0.0)
    for process in psutil.process_iter(["cmdline", "cpu_times"]):
        times, line = process.info["cpu_times"], " ".join(process.info["cmdline"] or ())
        if times is None:
            continue
        kind = next((k for k in CPU_KINDS if k in line), "other")
        used[kind] += times.user + times.system + times.children_user + times.children_system
    return used


def worker_drain(url: str, *, limit: float = 180) -> float:
    """Wait until the Celery worker has done every job queued so far (the broker's queue is
    empty and nothing is unacknowledged: jobs are acknowledged late); the seconds it took.
    Each run is measured with what it queued, and the next starts on an idle worker: a wave
    of offers left from a run of bookings was counted against the run after it."""
    import redis

    broker = redis.Redis.from_url(url)
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if not broker.llen("celery") and not broker.hlen("unacked"):
            break
        time.sleep(0.1)
    return time.monotonic() - began


def locust(
    args: argparse.Namespace,
    folder: Path,
    label: str,
    classes: list[str],
    *,
    users: int,
    seconds: float,
    endpoint: str = "",
) -> tuple[dict[str, Row], list[str]]:
    """One headless locust run; its rows by request name, and its distinct errors."""
    prefix = folder / label
    env = dict(os.environ)
    env.update({"LOAD_DATA": str(folder / "data.json"), "LOAD_ENDPOINT": endpoint})
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{args.port}",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds:g}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
        *classes,
    ]
    before = cpu_seconds()
    with (folder / f"{label}.log").open("wb") as log:
        subprocess.run(  # noqa: S603 (our own command)
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True
        )
    drained = worker_drain(args.redis)
    after = cpu_seconds()
    rows: dict[str, Row] = {}
    with open(f"{prefix}_stats.csv", newline="") as file:
        for line in csv.DictReader(file):
            name = line["Name"] if line["Name"] == "Aggregated" else f"{line['Name']}"
            rows[name] = Row(
                name,
                int(line["Request Count"]),
                int(line["Failure Count"]),
                float(line["Requests/s"]),
                float(line["50%"] or 0),
                float(line["95%"] or 0),
                float(line["99%"] or 0),
            )
    # A run's CPU is shared by all its requests (alone, they are one endpoint's).
    total = rows["Aggregated"].requests if "Aggregated" in rows else 0
    if total:
        for row in rows.values():
            row.cpu = {k: (after[k] - before[k]) * 1000 / total for k in after}
            row.drained = drained
    errors = []
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(newline="") as file:
            for line in csv.DictReader(file):
                errors.append(f"{line['Occurrences']}x {line['Name']}: {line['Error'][:160]}")
    return rows, errors


def write_data(folder: Path, seeded: Seeded, open_tasks: list[list[int]]) -> None:
    (folder / "data.json").write_text(
        json.dumps(
            {
                "circles": seeded.circles,
                "events": seeded.events,
                "webhook_secret": seeded.webhook_secret,
                "open_tasks": open_tasks,
            }
        )
    )


# --- The report -------------------------------------------------------------------------------


def mix_table(rows: dict[str, Row]) -> str:
    lines = [
        "| endpoint | requests | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(rows, key=lambda n: (n == "Aggregated", n.split(" ")[-1], n)):
        row = rows[name]
        shown = "**all**" if name == "Aggregated" else f"`{name}`"
        lines.append(
            f"| {shown} | {row.requests:,} | {row.rps:.1f} | {row.p50:.0f} | {row.p95:.0f} |"
            f" {row.p99:.0f} | {row.errors} |"
        )
    return "\n".join(lines)


def alone_table(
    alone: dict[str, list[tuple[int, Row]]],
    references: dict[str, list[tuple[int, Row]]],
    kinds: dict[str, str],
) -> tuple[str, bool]:
    lines = [
        "| endpoint | requests/s | p50 ms | p95 ms | p99 ms | errors | reference requests/s"
        " | ratio by round | ratio | target 0.5 | servers' CPU ms a request |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    passed = True
    for runs in references.values():
        if not runs:
            continue
        rates = [row.rps for _, row in runs]
        p50s = sorted(row.p50 for _, row in runs)
        lines.append(
            f"| `{runs[0][1].name}` (reference, {len(runs)} runs) | {min(rates):.0f} to"
            f" {max(rates):.0f} | {p50s[len(p50s) // 2]:.0f} | | |"
            f" {sum(row.errors for _, row in runs)} | | | | | {cpu_text(runs)} |"
        )
    for name, rounds in alone.items():
        endpoint = FLOORS.get(name)  # a floor's, whose reference it is read against
        kind = kinds[endpoint or name]
        refs = references[kind]
        measured: list[tuple[float, float, Row]] = []  # (ratio, reference, row) a round
        for at, row in rounds:
            around = [r for n, r in refs if n < at][-1:] + [r for n, r in refs if n > at][:1]
            ref = sum(r.rps for r in around) / len(around)
            measured.append((row.rps / ref if ref else 0.0, ref, row))
        # The median round (of an even number, the lower of the middle two).
        ratio, ref, row = sorted(measured, key=lambda m: m[0])[(len(measured) - 1) // 2]
        errors = sum(r.errors for _, _, r in measured)
        # A floor has no target: its ratio is the most its endpoint could reach.
        ok = errors == 0 and (endpoint is not None or ratio >= TARGET)
        passed &= ok
        by_round = ", ".join(f"{m[0]:.2f}" for m in measured)
        shown = f"`{name}` (floor of `{endpoint}`)" if endpoint else f"`{name}`"
        verdict = "floor" if endpoint and ok else "PASS" if ok else "FAIL"
        lines.append(
            f"| {shown} | {row.rps:.1f} | {row.p50:.0f} | {row.p95:.0f} | {row.p99:.0f} |"
            f" {errors} | {kind}: {ref:.0f} | {by_round} | {ratio:.2f} |"
            f" {verdict} | {cpu_text(rounds)} |"
        )
    return "\n".join(lines), passed


def cpu_text(runs: list[tuple[int, Row]]) -> str:
    """The servers' CPU a request of these runs took: the median of the runs' totals, with
    that run's parts (web: gunicorn; worker: Celery; pg: PostgreSQL; and Redis). Locust's is
    left out: it includes locust starting (reading the data file), which is outside the
    measured seconds and weighs on the few requests of a slow endpoint."""
    measured = sorted(
        (row for _, row in runs if row.cpu), key=lambda r: sum(r.cpu[k] for k in CPU_KINDS)
    )
    if not measured:
        return ""
    row = measured[(len(measured) - 1) // 2]
    total = sum(row.cpu[k] for k in CPU_KINDS)
    names = {"gunicorn": "web", "celery": "worker", "postgres": "pg"}
    parts = ", ".join(
        f"{label} {row.cpu[kind]:.1f}" for kind, label in names.items() if row.cpu[kind] >= 0.05
    )
    after = f"; the worker done {row.drained:.1f} s after" if row.drained >= 0.5 else ""
    return f"{total:.1f} ({parts}{after})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=20)
    parser.add_argument("--members", type=int, default=2000, help="members per circle")
    parser.add_argument("--helpers", type=int, default=200, help="helpers per circle")
    parser.add_argument("--events", type=int, default=6000, help="Stripe events ready to send")
    parser.add_argument("--users", type=int, default=20, help="locust users in the mix")
    parser.add_argument("--mix-seconds", type=float, default=90)
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured mix seconds first")
    parser.add_argument("--alone-users", type=int, default=10, help="locust users alone")
    parser.add_argument("--alone-seconds", type=float, default=5)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alone: the whole sequence this many times"
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="alone: only these endpoints (names as printed)"
    )
    parser.add_argument("--no-floors", action="store_true", help="alone: no floors")
    parser.add_argument("--no-alone", action="store_true", help="the mix only")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=0, help="WEB_CONCURRENCY (0: the conf's)")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="broker and cache (emptied first)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("the load test needs DATABASE_URL=postgres://...")
    database_recreate(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    servers: Servers | None = None
    # Stopped with SIGTERM, still stop gunicorn and the worker (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        began = time.monotonic()
        seeded = seed(args, random.Random(RNG_SEED))
        stages = ", ".join(f"{stage} {s:.0f} s" for stage, s in seeded.took.items())
        print(f"seeded in {time.monotonic() - began:.0f} s ({stages})", flush=True)
        write_data(folder, seeded, [[] for _ in seeded.circles])
        redis_flush(args.redis)
        servers = Servers(server_env(args, url, seeded.webhook_secret), folder, args.port)
        servers.start()
        mix = ["MemberUser", "HelperUser", "OperatorUser", "CoordinatorUser", "StripeUser"]
        if args.warmup:
            locust(args, folder, "warmup", mix, users=args.users, seconds=args.warmup)
        print(f"the mix: {args.users} users, {args.mix_seconds:g} s", flush=True)
        mixed, mix_errors = locust(
            args, folder, "mix", mix, users=args.users, seconds=args.mix_seconds
        )

        # Each endpoint's run of each round, with its run number.
        alone: dict[str, list[tuple[int, Row]]] = {}
        alone_errors: list[str] = []
        # (run number, row) of each reference run, by kind. A shared machine's speed drifts
        # over minutes, so each endpoint's reference is measured just before it, and the mean
        # of the runs either side of the endpoint is what it is read against.
        references: dict[str, list[tuple[int, Row]]] = {"read": [], "write": []}
        if not args.no_alone:
            names = [n for n in ENDPOINT_KINDS if args.only is None or n in args.only]
            floor_of = {} if args.no_floors else {end: floor for floor, end in FLOORS.items()}
            plan: list[tuple[str, str]] = []
            for _ in range(args.rounds):
                for name in names:
                    kind = ENDPOINT_KINDS[name]
                    plan += [(kind, f"ref:{kind}"), (kind, name)]
                    if name in floor_of:
                        plan += [(kind, f"ref:{kind}"), (kind, floor_of[name])]
            plan += [("read", "ref:read"), ("write", "ref:write")]
            for n, (kind, name) in enumerate(plan):
                if name in ACCEPTS:
                    write_data(folder, seeded, open_task_ids(seeded.circles))
                print(f"alone: {name}", flush=True)
                rows, errors = locust(
                    args,
                    folder,
                    f"alone-{n}",
                    ["AloneUser"],
                    users=args.alone_users,
                    seconds=args.alone_seconds,
                    endpoint=name,
                )
                alone_errors.extend(errors)
                found = [r for label, r in rows.items() if label != "Aggregated"]
                row = found[0] if found else Row(name, 0, 0, 0.0, 0, 0, 0)
                if name.startswith("ref:"):
                    references[kind].append((n, row))
                else:
                    alone.setdefault(name, []).append((n, row))
    finally:
        if servers is not None:
            servers.stop()

    try:
        print()
        print(
            f"cores: {os.cpu_count()}; gunicorn (deploy/gunicorn.conf.py):"
            f" {args.workers or 'cpu*2+1'} workers x 2 threads; Celery worker x2; locust on the"
            " same machine"
        )
        counts = {}
        with connection.cursor() as cursor:
            for label, table in (
                ("members", "members_member"),
                ("helpers", "helpers_helper"),
                ("API tokens", "authtoken_token"),
                ("tasks", "matching_task"),
                ("ledger transactions", "tokens_transaction"),
                ("Stripe events stored", "payments_stripeevent"),
            ):
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                counts[label] = cursor.fetchone()[0]
        print("after the run: " + ", ".join(f"{label} {n:,}" for label, n in counts.items()))
        print()
        print(f"the mix: {args.users} users for {args.mix_seconds:g} s (after {args.warmup:g} s)")
        print(mix_table(mixed))
        for line in mix_errors[:20]:
            print(f"  error: {line}")
        passed = not any(r.errors for r in mixed.values())
        if alone:
            print()
            print(
                f"each endpoint alone: {args.alone_users} users for {args.alone_seconds:g} s,"
                f" {args.rounds} rounds, each run just after its reference; each round's ratio"
                " is against the mean of the reference's runs before and after it, and the"
                " endpoint's is the median of its rounds'"
            )
            table, ok = alone_table(alone, references, ENDPOINT_KINDS)
            print(table)
            for line in alone_errors[:20]:
                print(f"  error: {line}")
            passed &= ok
        print()
        try:
            call_command("ledger_audit")
        except Exception as exc:  # CommandError: the books are wrong
            print(f"ledger_audit FAILED: {exc}")
            passed = False
        print("PASS" if passed else "FAIL")
        return 0 if passed else 1
    finally:
        connection.close()
        if args.keep:
            print(f"kept {connection.settings_dict['NAME']} and the logs in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
            database_drop(url)


if __name__ == "__main__":
    sys.exit(main())
