"""The matching benchmark: the ranked helpers of a task (`task_matches`) and a helper's feed
(`helper_feed`), at national scale, beside the naive reference on the same data.

How to run (PostgreSQL; the role must be allowed to create databases):

    DATABASE_URL=postgres://circle_ci:circle_ci@127.0.0.1:5432/circle_bench \\
        .venv/bin/python bench/matching.py [--helpers 100000 1000000] [--queries 300] [--keep]

or on SQLite (the laptop default: 10,000 helpers in a temporary file):

    .venv/bin/python bench/matching.py --sqlite

For each size it makes its own database (on PostgreSQL the URL's name with the size appended,
e.g. `circle_bench_100000`, dropped first if there), migrates it, and seeds it:

- circles (by default one per 500 helpers, at most 300) centred on real postcode sectors spread
  over Great Britain, each 8 to 20 km across, with DESIGN.md's eight categories and a ninth,
  British Sign Language, that almost nobody has (one helper in 2,000);
- the helpers (each with their member row), placed on the postcode sectors within their
  circle's radius, with a few skills each (skewed: odd jobs and gardening common, lifts less so,
  sign language rare), vetting levels mixed (20% none, 50% basic, 30% enhanced), 2% suspended,
  travel radii from 2 to 50 km, and weekly availability slots for a third of them; loaded
  with COPY on PostgreSQL and multi-row INSERTs on SQLite;
- in each circle, members who ask for help, funded through `purchase_credit`, with open tasks
  (each holding its estimate through `hold_create`, as booking does), one of them in the rare
  category, tasks that helpers took lately (for the "recent tasks" and "helped before" counts),
  and some preferred and blocked helpers.

Then it measures, after a warm-up, over `--queries` queries each: `task_matches` for open tasks
of the common categories, `task_matches` for tasks of the rare category, and `helper_feed` for
helpers picked at random; and the naive versions (`task_matches_naive`: every helper of the
circle through the rules in Python with geopy; `helper_feed_naive`: every open task of the
circle) on the first `--naive-queries` of the same queries, checking that both give the same
answers. It prints p50 and p95 of each, the naive figures, their ratio, and the targets
(PostgreSQL: p95 at most 20 ms up to 100,000 helpers and 50 ms at 1,000,000; SQLite: 50 ms at
10,000), and exits non-zero when a target is missed or an answer differs.

`--keep` keeps each database, and a later run with `--keep` reuses one seeded for the same
size (its open tasks' windows moved forward by the time since), so the 1,000,000 case need not
be seeded every time. Seeding takes about 2 minutes at 100,000 helpers and 6.5 at 1,000,000 on
the 2-core machine (the tasks, each booked through the ledger, are a large part of it).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import admin_connect, database_name  # noqa: E402

DEFAULT_URL = "postgres://circle_ci:circle_ci@127.0.0.1:5432/circle_bench"
SEED_VERSION = 1
RNG_SEED = 20261201
KM_PER_DEGREE = 6371.009 * math.pi / 180

# How likely a helper is to have each skill; every helper has at least one.
SKILL_ODDS = {
    "odd-jobs": 0.45,
    "gardening": 0.4,
    "companionship": 0.35,
    "diy": 0.25,
    "it-help": 0.25,
    "shopping": 0.2,
    "paperwork": 0.2,
    "lifts": 0.1,
    "sign-language": 0.0005,
}
RARE = "sign-language"
COMMON = tuple(slug for slug in SKILL_ODDS if slug != RARE)
RADII = (2, 3, 5, 5, 8, 8, 10, 10, 15, 20, 50)
VETTING = (("none", 0.2), ("basic", 0.5), ("enhanced", 0.3))
SUSPENDED = 0.02
WITH_SLOTS = 0.33
ASKERS_PER_CIRCLE = 8
OPEN_TASKS_PER_CIRCLE = 24
TAKEN_TASKS_PER_CIRCLE = 12


def targets(engine: str, helpers: int) -> float:
    """The p95 target in ms."""
    if engine == "sqlite":
        return 50.0
    return 20.0 if helpers <= 100_000 else 50.0


# --- Django and the databases -----------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circle.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log


def use_database(name: str) -> None:
    """Point Django's connection at another database of the same server."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def pg_database_exists(url: str, name: str) -> bool:
    conn = admin_connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    conn.close()
    return found


def pg_database_recreate(url: str, name: str) -> None:
    conn = admin_connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def pg_database_drop(url: str, name: str) -> None:
    conn = admin_connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def seeded_meta() -> tuple[int, int, int, datetime] | None:
    """(version, helpers, circles, seeded_at) of a database this script seeded, or None."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version, helpers, circles, seeded_at FROM bench_matching_meta")
            row = cursor.fetchone()
    except Exception:
        connection.close()
        return None
    if row is None:
        return None
    seeded_at = row[3]
    if isinstance(seeded_at, str):
        seeded_at = datetime.fromisoformat(seeded_at)
    if seeded_at.tzinfo is None:
        seeded_at = seeded_at.replace(tzinfo=UTC)
    return int(row[0]), int(row[1]), int(row[2]), seeded_at


# --- Seeding ----------------------------------------------------------------------------------


@dataclass
class Place:
    postcode: str
    latitude: float
    longitude: float


def sectors() -> list[Place]:
    path = ROOT / "circle" / "data" / "postcode_sectors.csv"
    with path.open(newline="", encoding="utf-8") as file:
        return [
            Place(f"{row['sector']}AA", float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(file)
        ]


def flat_km(a: Place, b: Place) -> float:
    dy = (a.latitude - b.latitude) * KM_PER_DEGREE
    dx = (a.longitude - b.longitude) * KM_PER_DEGREE * math.cos(math.radians(a.latitude))
    return math.hypot(dx, dy)


class Loader:
    """Rows into a table in large batches: COPY on PostgreSQL, multi-row INSERTs on SQLite."""

    BATCH = 50_000

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        from django.db import connection

        self.table, self.columns = table, list(columns)
        self.vendor = connection.vendor
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, *row: Any) -> None:
        self.rows.append(row)

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.BATCH

    def flush(self) -> None:
        from django.db import connection, transaction

        if not self.rows:
            return
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with transaction.atomic(), connection.cursor() as cursor:
            if self.vendor == "postgresql":
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in self.rows:
                    writer.writerow(["\\N" if v is None else v for v in row])
                buffer.seek(0)
                cursor.cursor.copy_expert(
                    f"COPY {self.table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                    buffer,
                )
            else:
                # SQLite takes at most 32,766 parameters a statement.
                per = max(1, 32_000 // len(self.columns))
                marks = "(" + ", ".join("%s" for _ in self.columns) + ")"
                for start in range(0, len(self.rows), per):
                    chunk = self.rows[start : start + per]
                    cursor.execute(
                        f"INSERT INTO {self.table} ({columns}) VALUES "
                        + ", ".join(marks for _ in chunk),
                        [v for row in chunk for v in row],
                    )
        self.count += len(self.rows)
        self.rows = []


def next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return int(cursor.fetchone()[0])


def seed(helpers: int, circles: int, rng: random.Random) -> dict[str, float]:
    """Seed the current database; returns the seconds each stage took."""
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection

    from circle.models import Category, Circle
    from circle.services import circle_create
    from helpers.models import AvailabilitySlot, Helper, HelperSkill
    from members.models import Member

    took: dict[str, float] = {}
    began = time.monotonic()
    call_command("migrate", verbosity=0)
    took["migrate"] = time.monotonic() - began

    began = time.monotonic()
    places = sectors()
    rng.shuffle(places)
    centres: list[Place] = []
    for place in places:  # spread out: no two centres within 15 km
        if all(flat_km(place, other) > 15 for other in centres):
            centres.append(place)
        if len(centres) == circles:
            break
    made: list[tuple[Circle, list[Place], dict[str, int]]] = []
    for number, centre in enumerate(centres):
        radius = rng.uniform(4, 10)
        circle = circle_create(
            slug=f"bench-{number}",
            name=f"Bench {number}",
            postcode=centre.postcode,
            radius_km=Decimal(f"{radius:.1f}"),
        )
        Category.objects.create(
            circle=circle, slug=RARE, name="British Sign Language", vetting_level="basic"
        )
        local = [p for p in places if flat_km(p, centre) <= radius] or [centre]
        categories = dict(Category.objects.filter(circle=circle).values_list("slug", "id"))
        made.append((circle, local, categories))
    took["circles"] = time.monotonic() - began

    began = time.monotonic()
    now = datetime.now(UTC)
    stamp = connection.ops.adapt_datetimefield_value(now)  # as Django stores it, on either
    born = date(1960, 1, 1).isoformat()
    member_id, helper_id = next_id("members_member"), next_id("helpers_helper")
    skill_id, slot_id = next_id("helpers_helperskill"), next_id("helpers_availabilityslot")
    members = Loader(
        "members_member",
        [
            "id",
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
    helper_rows = Loader(
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
            "created_at",
        ],
    )
    skills = Loader("helpers_helperskill", ["id", "circle_id", "helper_id", "category_id"])
    slots = Loader(
        "helpers_availabilityslot", ["id", "circle_id", "helper_id", "weekday", "start", "end"]
    )

    def flush_in_order() -> None:
        # Members before helpers before their skills and slots: each batch commits on its own,
        # and its foreign keys are checked against rows already there.
        for loader in (members, helper_rows, skills, slots):
            loader.flush()

    levels = [level for level, _ in VETTING]
    level_weights = [weight for _, weight in VETTING]
    odds = list(SKILL_ODDS.items())
    per_circle = [helpers // len(made)] * len(made)
    for i in range(helpers - sum(per_circle)):
        per_circle[i] += 1
    for (circle, local, categories), count in zip(made, per_circle, strict=True):
        for _ in range(count):
            place = rng.choice(local)
            # Within a few hundred metres of the sector's centre, as homes are.
            lat = place.latitude + rng.uniform(-0.003, 0.003)
            lon = place.longitude + rng.uniform(-0.005, 0.005)
            members.add(
                member_id,
                circle.pk,
                f"Helper{helper_id} Bench",
                "",
                born,
                f"{helper_id} Bench Road",
                place.postcode,
                f"{lat:.5f}",
                f"{lon:.5f}",
                "active",
                "helper_signup",
                stamp,
            )
            suspended = rng.random() < SUSPENDED
            helper_rows.add(
                helper_id,
                circle.pk,
                member_id,
                "volunteer",
                place.postcode,
                f"{lat:.5f}",
                f"{lon:.5f}",
                rng.choice(RADII),
                rng.choices(levels, level_weights)[0],
                suspended,
                "Bench" if suspended else "",
                stamp,
            )
            chosen = [slug for slug, p in odds if rng.random() < p] or [rng.choice(COMMON)]
            for slug in chosen:
                skills.add(skill_id, circle.pk, helper_id, categories[slug])
                skill_id += 1
            if rng.random() < WITH_SLOTS:
                for weekday in rng.sample(range(7), rng.randint(1, 4)):
                    start = rng.randrange(7, 18)
                    end = min(start + rng.choice((2, 3, 4, 6)), 23)
                    begins, ends = f"{start:02}:00:00", f"{end:02}:00:00"
                    slots.add(slot_id, circle.pk, helper_id, weekday, begins, ends)
                    slot_id += 1
            member_id += 1
            helper_id += 1
            if skills.full:
                flush_in_order()
    flush_in_order()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Member, Helper, HelperSkill, AvailabilitySlot]
        ):
            cursor.execute(sql)
    took["helpers"] = time.monotonic() - began

    began = time.monotonic()
    tasks_seed([circle for circle, _, _ in made], [local for _, local, _ in made], rng, now)
    took["tasks"] = time.monotonic() - began

    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "CREATE TABLE bench_matching_meta (version integer, helpers integer,"
            " circles integer, seeded_at timestamp)"
        )
        cursor.execute(
            "INSERT INTO bench_matching_meta VALUES (%s, %s, %s, %s)",
            [SEED_VERSION, helpers, len(made), now.replace(tzinfo=None).isoformat(" ")],
        )
    if connection.vendor == "postgresql":
        # Outside any transaction (Django's autocommit): the visibility map it writes lets the
        # skill rows be read by an index-only scan, as autovacuum would in a live table.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    took["analyze"] = time.monotonic() - began
    return took


def tasks_seed(
    circles: list[Any], locals_: list[list[Place]], rng: random.Random, now: datetime
) -> None:
    """Members asking for help, funded and with tasks booked as booking does (their estimates
    held), tasks helpers took lately, and some preferred and blocked helpers."""
    from circle.models import Category
    from helpers.models import Helper
    from matching.models import HelperPreference, PreferenceKind, Task, TaskStatus
    from members.models import JoinedVia, Member, MembershipStatus
    from tokens.services import hold_create, purchase_credit

    number = 0
    for circle, local in zip(circles, locals_, strict=True):
        categories = {c.slug: c for c in Category.objects.filter(circle=circle)}
        askers = []
        for i in range(ASKERS_PER_CIRCLE):
            place = rng.choice(local)
            askers.append(
                Member(
                    circle=circle,
                    full_name=f"Asker{i} Circle{circle.pk}",
                    postcode=place.postcode,
                    latitude=Decimal(f"{place.latitude:.5f}"),
                    longitude=Decimal(f"{place.longitude:.5f}"),
                    membership_status=MembershipStatus.ACTIVE,
                    joined_via=JoinedVia.PHONE,
                )
            )
        askers = Member.objects.bulk_create(askers)
        for asker in askers:
            purchase_credit(
                member=asker, minutes=100_000, payment_key=f"bench-{asker.pk}", actor=None
            )
        helper_ids = list(
            Helper.objects.filter(circle=circle, suspended=False)
            .order_by("?")
            .values_list("id", flat=True)[:200]
        )
        tasks = []
        kinds = [RARE] + [rng.choice(COMMON) for _ in range(OPEN_TASKS_PER_CIRCLE - 1)]
        taken = [TaskStatus.COMPLETED] * (TAKEN_TASKS_PER_CIRCLE // 2) + [TaskStatus.ACCEPTED] * (
            TAKEN_TASKS_PER_CIRCLE - TAKEN_TASKS_PER_CIRCLE // 2
        )
        for slug_or_status in kinds + taken:
            number += 1
            asker = rng.choice(askers)
            minutes = rng.choice((60, 90, 120))
            hold = hold_create(
                member=asker, minutes=minutes, reference=f"bench-task-{number}", actor=None
            )
            is_open = slug_or_status in SKILL_ODDS
            day = now.date() + timedelta(days=rng.randrange(1, 14) if is_open else 0)
            start = datetime(day.year, day.month, day.day, rng.randrange(8, 17), tzinfo=UTC)
            if not is_open:
                start -= timedelta(days=rng.randrange(1, 25))
            status = TaskStatus.OPEN if is_open else slug_or_status
            done = status == TaskStatus.COMPLETED
            tasks.append(
                Task(
                    circle=circle,
                    member=asker,
                    category=categories[slug_or_status if is_open else rng.choice(COMMON)],
                    title=f"Bench task {number}",
                    window_start=start,
                    window_end=start + timedelta(minutes=minutes),
                    estimated_minutes=minutes,
                    status=status,
                    latitude=asker.latitude,
                    longitude=asker.longitude,
                    postcode_district=asker.postcode.split()[0],
                    hold=hold,
                    helper_id=None if is_open else rng.choice(helper_ids),
                    accepted_at=None if is_open else start - timedelta(days=1),
                    minutes_reported=minutes if done else None,
                    minutes_billed=minutes if done else None,
                    completed_at=start + timedelta(minutes=minutes) if done else None,
                )
            )
        Task.objects.bulk_create(tasks)
        words = []
        for asker in askers[: ASKERS_PER_CIRCLE // 2]:
            preferred, blocked = rng.sample(helper_ids, 2)
            words.append(
                HelperPreference(
                    circle=circle, member=asker, helper_id=preferred, kind=PreferenceKind.PREFERRED
                )
            )
            words.append(
                HelperPreference(
                    circle=circle, member=asker, helper_id=blocked, kind=PreferenceKind.BLOCKED
                )
            )
        HelperPreference.objects.bulk_create(words)


def tasks_move_forward(seeded_at: datetime) -> None:
    """On reuse: move open tasks' windows forward by the time since seeding."""
    from django.db.models import F

    from matching.models import Task, TaskStatus

    shift = datetime.now(UTC) - seeded_at
    Task.objects.filter(status=TaskStatus.OPEN).update(
        window_start=F("window_start") + shift, window_end=F("window_end") + shift
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bench_matching_meta SET seeded_at = %s",
            [datetime.now(UTC).replace(tzinfo=None).isoformat(" ")],
        )


# --- Measuring --------------------------------------------------------------------------------


@dataclass
class Figures:
    label: str
    fast: list[float]
    naive: list[float]
    results: list[int]
    mismatches: int

    @staticmethod
    def pct(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return (time.perf_counter() - began) * 1000, result


def measure(
    label: str,
    items: list[Any],
    fast: Callable[[Any], list[Any]],
    naive: Callable[[Any], list[Any]],
    naive_count: int,
    fresh: Callable[[Any], Any],
) -> Figures:
    """Time `fast` on every item (each read afresh, as a request would have it) after a
    warm-up, then `naive` on the first `naive_count`, comparing their answers."""
    for item in items[:20]:
        fast(fresh(item))
    times, sizes = [], []
    for item in items:
        obj = fresh(item)
        ms, result = timed(lambda obj=obj: fast(obj))
        times.append(ms)
        sizes.append(len(result))
    naive_times, mismatches = [], 0
    for item in items[:naive_count]:
        obj = fresh(item)
        ms, result = timed(lambda obj=obj: naive(obj))
        naive_times.append(ms)
        if result != fast(fresh(item)):
            mismatches += 1
    return Figures(label, times, naive_times, sizes, mismatches)


def pick(helpers: int, queries: int, rng: random.Random) -> dict[str, list[int]]:
    from django.db.models import Count

    from helpers.models import Helper
    from matching.models import Task, TaskStatus

    open_tasks = Task.objects.filter(status=TaskStatus.OPEN)
    common = list(open_tasks.exclude(category__slug=RARE).values_list("id", flat=True))
    rare = list(open_tasks.filter(category__slug=RARE).values_list("id", flat=True))
    rng.shuffle(common)
    rng.shuffle(rare)
    # Helpers at random, by id (ids are dense); those suspended or without skills are skipped.
    first, last = (
        Helper.objects.order_by("id").values_list("id", flat=True).first() or 0,
        Helper.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    )
    sample = rng.sample(range(first, last + 1), min(queries * 3, last - first + 1))
    fed = list(
        Helper.objects.filter(pk__in=sample, suspended=False)
        .annotate(n=Count("skill_rows"))
        .filter(n__gt=0)
        .values_list("id", flat=True)
    )
    rng.shuffle(fed)

    def cycle(ids: list[int]) -> list[int]:
        return [ids[i % len(ids)] for i in range(queries)] if ids else []

    return {"common": cycle(common), "rare": cycle(rare), "feed": cycle(fed)}


def run_size(engine: str, helpers: int, args: argparse.Namespace) -> list[Figures]:
    from helpers.models import Helper
    from matching.models import Task
    from matching.selectors import helper_feed, helper_feed_naive, task_matches, task_matches_naive

    rng = random.Random(RNG_SEED + helpers)
    chosen = pick(helpers, args.queries, rng)

    def task(pk: int) -> Task:
        return Task.objects.select_related("member", "category").get(pk=pk)

    def helper(pk: int) -> Helper:
        return Helper.objects.get(pk=pk)

    figures = [
        measure(
            "matches, common category",
            chosen["common"],
            lambda t: task_matches(task=t),
            lambda t: task_matches_naive(task=t),
            args.naive_queries,
            task,
        ),
        measure(
            "matches, rare category",
            chosen["rare"],
            lambda t: task_matches(task=t),
            lambda t: task_matches_naive(task=t),
            args.naive_queries,
            task,
        ),
        measure(
            "helper's feed",
            chosen["feed"],
            lambda h: helper_feed(helper=h),
            lambda h: helper_feed_naive(helper=h),
            args.naive_queries,
            helper,
        ),
    ]
    if args.explain and engine == "postgresql":
        explain(chosen)
    return figures


def explain(chosen: dict[str, list[int]]) -> None:
    """Print the plan of the candidate query for one common and one rare task."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from matching.models import Task
    from matching.selectors import task_matches

    for kind in ("common", "rare"):
        task = Task.objects.select_related("member", "category").get(pk=chosen[kind][0])
        with CaptureQueriesContext(connection) as captured:
            task_matches(task=task)
        sql = next(q["sql"] for q in captured.captured_queries if "helpers_helperskill" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print(f"\nplan of the candidate query ({kind}):")
            for (line,) in cursor.fetchall():
                print("  " + line)
        print(f"  queries in one task_matches: {len(captured.captured_queries)}")


# --- The run ----------------------------------------------------------------------------------


def prepare(engine: str, url: str, helpers: int, circles: int, keep: bool) -> str:
    """Make (or, with --keep, reuse) the database for this size; returns a line about it."""
    from django.conf import settings

    rng = random.Random(RNG_SEED + helpers)
    if engine == "postgresql":
        name = f"{database_name(url)}_{helpers}"
        use_database(name)
        meta = seeded_meta() if keep and pg_database_exists(url, name) else None
        if meta and meta[0] == SEED_VERSION and meta[1] == helpers and meta[2] == circles:
            tasks_move_forward(meta[3])
            return f"reused {name} (its open tasks' windows moved on by the time since)"
        use_database(name)  # closes the connection before the database is dropped
        pg_database_recreate(url, name)
    else:
        name = str(settings.DATABASES["default"]["NAME"])
    began = time.monotonic()
    took = seed(helpers, circles, rng)
    stages = ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in took.items())
    return f"seeded {name} in {time.monotonic() - began:.0f} s ({stages})"


def counts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "helpers": "helpers_helper",
        "skills": "helpers_helperskill",
        "slots": "helpers_availabilityslot",
        "tasks": "matching_task",
    }
    found = {}
    with connection.cursor() as cursor:
        for label, table in tables.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            found[label] = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT COUNT(*) FROM helpers_helperskill s JOIN circle_category c"
            " ON c.id = s.category_id WHERE c.slug = %s",
            [RARE],
        )
        found["with the rare skill"] = int(cursor.fetchone()[0])
    return found


def server_line(engine: str) -> str:
    from django.db import connection

    if engine == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('jit'),"
            " current_setting('shared_buffers')"
        )
        version, jit, buffers = cursor.fetchone()
    return f"PostgreSQL {version}, jit {jit} (this session), shared_buffers {buffers}"


def report(rows: Iterable[tuple[str, int, int, Figures, float]]) -> bool:
    header = (
        f"{'db':<7}{'helpers':>10}{'circles':>8}  {'query':<26}{'n':>5}{'p50 ms':>8}"
        f"{'p95 ms':>8}{'found':>7}{'naive n':>8}{'naive p50':>10}{'naive p95':>10}"
        f"{'x faster':>9}  target p95"
    )
    print(header)
    print("-" * len(header))
    passed = True
    for engine, helpers, circles, fig, target in rows:
        p50, p95 = Figures.pct(fig.fast, 0.5), Figures.pct(fig.fast, 0.95)
        n50, n95 = Figures.pct(fig.naive, 0.5), Figures.pct(fig.naive, 0.95)
        ok = p95 <= target and fig.mismatches == 0
        passed &= ok
        verdict = f"<= {target:g}: {'PASS' if p95 <= target else 'FAIL'}"
        if fig.mismatches:
            verdict += f"; {fig.mismatches} answers differ from naive: FAIL"
        found = statistics.median(fig.results) if fig.results else 0
        db = "pg" if engine == "postgresql" else engine
        print(
            f"{db:<7}{helpers:>10,}{circles:>8}  {fig.label:<26}{len(fig.fast):>5}"
            f"{p50:>8.1f}{p95:>8.1f}{found:>7g}{len(fig.naive):>8}{n50:>10.1f}{n95:>10.1f}"
            f"{n50 / p50 if p50 else 0:>9.0f}  {verdict}"
        )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--helpers", type=int, nargs="+", help="sizes (default 100000 1000000)")
    parser.add_argument("--circles", type=int, help="default: one per 500 helpers, at most 300")
    parser.add_argument("--queries", type=int, default=300, help="timed queries of each kind")
    parser.add_argument(
        "--naive-queries", type=int, default=20, help="naive queries of each kind (slow)"
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite in a temporary file")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the databases")
    parser.add_argument("--explain", action="store_true", help="print the candidate query plans")
    args = parser.parse_args()

    if args.sqlite:
        engine = "sqlite"
        sizes = args.helpers or [10_000]
        folder = Path(tempfile.mkdtemp(prefix="bench-matching-"))
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        if len(sizes) > 1:
            parser.error("--sqlite measures one size per run")
    else:
        engine = "postgresql"
        sizes = args.helpers or [100_000, 1_000_000]
        url = os.environ.get("DATABASE_URL") or DEFAULT_URL
        if not url.startswith(("postgres://", "postgresql://")):
            parser.error("without --sqlite the benchmark needs DATABASE_URL=postgres://...")
    setup_django(url)
    from django.db import connection

    rows = []
    made: list[str] = []
    try:
        for helpers in sizes:
            circles = args.circles or max(10, min(300, helpers // 500))
            print(f"{helpers:,} helpers in {circles} circles: ", end="", flush=True)
            line = prepare(engine, url, helpers, circles, args.keep)
            made.append(str(connection.settings_dict["NAME"]))
            print(line)
            print("  " + ", ".join(f"{k} {v:,}" for k, v in counts().items()))
            print("  " + server_line(engine))
            for fig in run_size(engine, helpers, args):
                rows.append((engine, helpers, circles, fig, targets(engine, helpers)))
        print()
        print(f"cores: {os.cpu_count()}; times in ms per call, after a warm-up of 20 calls")
        print("'found': median number of matches (or feed items) returned;")
        print("'x faster': naive p50 / fast p50, on the same data in the same run")
        print()
        return 0 if report(rows) else 1
    finally:
        connection.close()
        if engine == "postgresql" and not args.keep:
            for name in made:
                pg_database_drop(url, name)
        elif args.keep:
            print(f"kept: {', '.join(made)}")
        else:
            for name in made:
                Path(name).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
