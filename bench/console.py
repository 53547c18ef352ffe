"""The console benchmark: an operator's search as they type, on the Find page, at 5,000 members in
one circle, beside a plain indexed SQL query of the same data in the same run.

How to run (PostgreSQL; the role must be allowed to create databases):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/circle_console_bench \\
        .venv/bin/python bench/console.py [--members 5000] [--rounds 5] [--keep] [--explain]

It makes its own database (the URL's name, dropped first if there), migrates it and seeds one
circle: `--members` members (5,000) written with COPY (names from common British first names and
surnames, so a typed prefix finds tens or hundreds as in life; mobile and landline numbers in
E.164, as stored; postcodes on the real sectors within the circle's area; ages 50 to 99), each
with the member role; `--paid` of them (500) paid for a year through `offline_payment_record`, as
staff record cash; and an operator.

Then it types, as an operator does while the caller speaks, a sample of names, phone numbers (as
read out, with spaces: "07911 123 456"), full postcodes and districts and sectors, one key at a
time from the second character, and asks the Find page's results fragment
(`/console/{slug}/?q=...&part=results`, what console-search.js fetches) for each prefix, through
Django's test `Client` in-process (the server's whole work: middleware, view, SQL, template; no
network), signed in as the operator with a session. Beside each request, in the same round and
taking turns, it runs the plain reference: one hand-written SQL statement over the same rows and
indexes (name `ILIKE`, phone digits `LIKE`, postcode prefix; the first 26 by name), through the
same connection. It prints p50 and p95 of each kind of prefix and of all, for the page, for the
selector alone (`member_search`, the rows the page shows) and for the reference, and whether the
page's p95 is under the target of 30 ms; it exits non-zero when it is not, or a fragment does
not answer 200. `--explain` prints the search's plan for a name, a phone and a district.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import database_drop, database_recreate  # noqa: E402
from bench.matching import Loader, Place, flat_km, sectors  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/circle_console_bench"
RNG_SEED = 20261201
SLUG = "console-bench"
TARGET_MS = 30.0
SHOWN = 26  # the page reads its 25 rows and one more, to know whether to count

FIRST_NAMES = (
    "Mary Margaret Patricia Jean Susan Linda Elizabeth Barbara Joan Ann Christine Janet Sheila "
    "Maureen Brenda Pauline Carol Irene Dorothy Joyce Valerie Sandra Hilda Doris Edna Gwen Rose "
    "John David Michael Peter Robert James William Brian Alan Anthony Kenneth Derek Colin Keith "
    "Roy Ronald George Thomas Richard Stephen Frank Arthur Harold Dennis Trevor Raymond Leslie"
)
FIRST = FIRST_NAMES.split()
LAST_NAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason "
    "Mitchell Rose Davis Rodriguez Cox Alexander Morris Ward Turner Cooper Hill Moore King Lee "
    "Harris Scott Baker Adams Campbell Anderson Allen Cook Bailey Parker Miller Kelly Murphy "
    "Okafor Mensah Nowak Kowalski Ahmed Ali Begum Singh Chen Wong O'Brien McCarthy Doyle Byrne"
)
LAST = LAST_NAMES.split()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circle.settings")
    # The settings' laptop defaults (production mode wants HTTPS and collected static files),
    # then run as production: no query log.
    os.environ["DEBUG"] = "true"
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


# --- Seeding ----------------------------------------------------------------------------------


def phone_number(rng: random.Random) -> str:
    """A UK number in E.164, as stored: mostly mobiles, some London landlines."""
    if rng.random() < 0.7:
        return f"+447{rng.choice('45789')}{rng.randrange(10**8):08d}"
    return f"+4420{rng.choice('378')}{rng.randrange(10**7):07d}"


def seed(members: int, paid: int, rng: random.Random) -> tuple[Any, Any, dict[str, float]]:
    """The circle and its operator, and the seconds each stage took."""
    from django.core.management import call_command
    from django.db import connection

    from circle.services import circle_create
    from members.models import RoleName
    from members.selectors import caller_for
    from members.services import staff_grant
    from payments.services.offline import offline_payment_record

    took: dict[str, float] = {}
    began = time.monotonic()
    call_command("migrate", verbosity=0)
    took["migrate"] = time.monotonic() - began

    began = time.monotonic()
    circle = circle_create(
        slug=SLUG, name="Console Bench", postcode="SE1 7PB", radius_km=Decimal("8")
    )
    centre = Place("SE1 7PB", float(circle.centre_latitude), float(circle.centre_longitude))
    local = [p for p in sectors() if flat_km(p, centre) <= 8]
    operator = staff_grant(
        circle=circle, email="operator@bench.example", role=RoleName.OPERATOR, password="x" * 12
    )
    coordinator = staff_grant(
        circle=circle,
        email="coordinator@bench.example",
        role=RoleName.COORDINATOR,
        password="x" * 12,
    )
    now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    today = datetime.now(UTC).date()
    rows = Loader(
        "members_member",
        [
            "circle_id",
            "full_name",
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
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    for n in range(members):
        place = rng.choice(local)
        sector = place.postcode[:-2]  # "SE1 7AA" -> "SE1 7"
        postcode = f"{sector}{rng.choice(letters)}{rng.choice(letters)}"
        born = today - timedelta(days=rng.randrange(50 * 365 + 13, 99 * 365))
        rows.add(
            circle.pk,
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            phone_number(rng),
            born.isoformat(),
            f"{n % 300 + 1} {rng.choice(LAST)} Road",
            postcode,
            f"{place.latitude:.5f}",
            f"{place.longitude:.5f}",
            "pending",
            "phone",
            now,
        )
        if rows.full:
            rows.flush()
    rows.flush()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO members_role (circle_id, member_id, role, granted_at) "
            "SELECT circle_id, id, 'member', now() FROM members_member "
            "WHERE circle_id = %s AND user_id IS NULL",
            [circle.pk],
        )
    took["members (COPY)"] = time.monotonic() - began

    began = time.monotonic()
    from members.models import Member

    staff = caller_for(user=coordinator.user, circle=circle)
    ids = list(Member.objects.filter(circle=circle, user__isnull=True).values_list("pk", flat=True))
    for number, member_id in enumerate(rng.sample(ids, min(paid, len(ids)))):
        offline_payment_record(
            member=Member.objects.get(pk=member_id),
            caller=staff,
            purpose="membership",
            method="cash",
            reference=f"BENCH-{number}",
        )
    took[f"{paid} paid years (offline_payment_record)"] = time.monotonic() - began

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return circle, operator, took


# --- What is typed ----------------------------------------------------------------------------


def prefixes(text: str, start: int = 2) -> list[str]:
    """What the box holds after each key, from the `start`th character (no query waits on one
    character: the script sends one, but an operator has typed the second before it answers)."""
    return [text[:end] for end in range(start, len(text) + 1) if not text[:end].endswith(" ")]


def spoken(e164: str) -> str:
    """A stored number as a caller reads it out: "07911 123 456", "020 7946 0018"."""
    national = "0" + e164[3:]
    if national.startswith("02"):
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    return f"{national[:5]} {national[5:8]} {national[8:]}"


def typed(circle: Any, rng: random.Random, per_kind: int) -> dict[str, list[str]]:
    from members.models import Member

    sample = list(
        Member.objects.filter(circle=circle, user__isnull=True)
        .order_by("?")
        .values_list("full_name", "phone", "postcode")[:per_kind]
    )
    kinds: dict[str, list[str]] = {"name": [], "phone": [], "postcode": [], "district": []}
    for name, phone, postcode in sample:
        kinds["name"] += prefixes(name)
        # From four digits: fewer match nothing useful, and the selector waits for four.
        kinds["phone"] += prefixes(spoken(phone), start=4)
        kinds["postcode"] += prefixes(postcode)
        outward, inward = postcode.split()
        kinds["district"] += [outward, f"{outward} {inward[0]}"]
    return kinds


# --- Measuring --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def reference_sql(query: str) -> tuple[str, list[Any]]:
    """The plain query an engineer would write by hand for the same box: every word in the
    name (ILIKE), or the digits in the phone, or the postcode's prefix; the first 26 by name.
    No roles, no paid-until, no escaping of wildcards, no template."""
    words = query.split()
    params: list[Any] = []
    name = " AND ".join("full_name ILIKE %s" for _ in words)
    params += [f"%{word}%" for word in words]
    condition = f"({name})"
    digits = re.sub(r"\D", "", query)
    if digits.startswith("44"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    if len(digits) >= 4:
        condition += " OR phone LIKE %s"
        params.append(f"%{digits}%")
    condition += " OR postcode LIKE %s"
    params.append(query.strip().upper() + "%")
    return (
        "SELECT id, full_name, date_of_birth, postcode, phone, membership_status "
        f"FROM members_member WHERE circle_id = %s AND ({condition}) "
        f"ORDER BY full_name, id LIMIT {SHOWN}",
        params,
    )


@dataclass
class Kind:
    label: str
    queries: list[str]
    page_ms: list[float] = field(default_factory=list)
    # This process's CPU time for the page, which a busy machine's other work inflates less.
    page_cpu: list[float] = field(default_factory=list)
    selector_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    found: list[int] = field(default_factory=list)


def measure(circle: Any, operator: Any, kinds: list[Kind], rounds: int, warmup: int) -> None:
    from django.db import connection
    from django.test import Client

    from members.selectors import member_search

    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(operator.user)
    base = f"/console/{circle.slug}/"

    def page(query: str, kind: Kind | None = None) -> None:
        cpu, began = time.thread_time(), time.perf_counter()
        response = client.get(base, {"q": query, "part": "results"})
        ms = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{base}?q={query!r} answered {response.status_code}")
        if kind is not None:
            kind.page_ms.append(ms)
            kind.page_cpu.append((time.thread_time() - cpu) * 1000)

    def selector(query: str) -> float:
        began = time.perf_counter()
        list(member_search(circle=circle, query=query)[:SHOWN])
        return (time.perf_counter() - began) * 1000

    def sql(query: str) -> tuple[float, int]:
        statement, params = reference_sql(query)
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, [circle.pk, *params])
            found = len(cursor.fetchall())
        return (time.perf_counter() - began) * 1000, found

    for kind in kinds:
        for query in kind.queries[:warmup]:
            page(query)
            selector(query)
            sql(query)
    for n in range(rounds):
        for kind in kinds:
            for query in kind.queries:
                sides = {
                    "page": lambda q=query, k=kind: page(q, k),
                    "selector": lambda q=query, k=kind: k.selector_ms.append(selector(q)),
                    "sql": lambda q=query, k=kind: _sql(k, sql(q)),
                }
                order: list[Callable[[], None]] = (
                    list(sides.values()) if n % 2 == 0 else list(reversed(sides.values()))
                )
                for side in order:
                    side()


def _sql(kind: Kind, result: tuple[float, int]) -> None:
    kind.sql_ms.append(result[0])
    kind.found.append(result[1])


def explain(circle: Any, queries: list[str]) -> None:
    from django.db import connection

    from members.selectors import member_search

    for query in queries:
        sql, params = member_search(circle=circle, query=query)[:SHOWN].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(f"\nthe search's plan for {query!r}:")
            for (line,) in cursor.fetchall():
                print("   ", line)


def server_line() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('jit')")
        version, jit = cursor.fetchone()
    return f"PostgreSQL {version}, jit {jit} (this session)"


def report(kinds: list[Kind]) -> bool:
    header = (
        f"{'typed':<10}{'queries':>8}{'found p50':>10}   {'page p50':>9}{'p95':>7}"
        f"{'cpu p50':>8}{'p95':>7}   "
        f"{'selector p50':>13}{'p95':>7}   {'plain SQL p50':>14}{'p95':>7}   {'page/SQL p95':>12}"
    )
    print(header)
    print("-" * len(header))
    everything = Kind("all", [])
    for kind in [*kinds, everything]:
        if kind is not everything:
            everything.page_ms += kind.page_ms
            everything.page_cpu += kind.page_cpu
            everything.selector_ms += kind.selector_ms
            everything.sql_ms += kind.sql_ms
            everything.found += kind.found
        print(
            f"{kind.label:<10}{len(kind.page_ms):>8}{pct(kind.found, 0.5):>10}   "
            f"{pct(kind.page_ms, 0.5):>9.1f}{pct(kind.page_ms, 0.95):>7.1f}"
            f"{pct(kind.page_cpu, 0.5):>8.1f}{pct(kind.page_cpu, 0.95):>7.1f}   "
            f"{pct(kind.selector_ms, 0.5):>13.1f}{pct(kind.selector_ms, 0.95):>7.1f}   "
            f"{pct(kind.sql_ms, 0.5):>14.2f}{pct(kind.sql_ms, 0.95):>7.2f}   "
            f"{pct(kind.page_ms, 0.95) / pct(kind.sql_ms, 0.95):>12.1f}"
        )
    p95 = pct(everything.page_ms, 0.95)
    passed = p95 < TARGET_MS
    print(
        f"\nthe load average while measuring: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)"
    )
    print(
        f"the results fragment's p95 over every prefix: {p95:.1f} ms; target < {TARGET_MS:g} ms:"
        f" {'PASS' if passed else 'FAIL'}"
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000, help="members in the circle")
    parser.add_argument("--paid", type=int, default=500, help="of whom, with a paid year")
    parser.add_argument("--per-kind", type=int, default=20, help="members whose details are typed")
    parser.add_argument("--rounds", type=int, default=5, help="times every prefix is measured")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured queries of each kind")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--explain", action="store_true", help="the search's plans")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        parser.error("DATABASE_URL must name PostgreSQL")

    rng = random.Random(RNG_SEED)
    database_recreate(url)
    try:
        setup_django(url)
        circle, operator, took = seed(args.members, args.paid, rng)
        print(server_line())
        print(
            "seeding: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in took.items())
        )
        kinds = [
            Kind(label, queries) for label, queries in typed(circle, rng, args.per_kind).items()
        ]
        print(
            f"{args.members} members in one circle; {sum(len(k.queries) for k in kinds)} typed"
            f" prefixes, each measured {args.rounds} times (page, selector and plain SQL taking"
            " turns), after a warm-up; ms:\n"
        )
        measure(circle, operator, kinds, args.rounds, args.warmup)
        passed = report(kinds)
        if args.explain:
            explain(circle, ["Mar", "07911 12", "SE1"])
    finally:
        from django.db import connection

        connection.close()
        if not args.keep:
            database_drop(url)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
