"""The reports benchmark: the coordinators' reports page (six charts of the last twelve months)
for a year of a 2,000-member circle, beside the plain SQL of the same figures in the same run.

How to run (PostgreSQL only; the role must be allowed to create databases):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/circle_reports_bench \\
        .venv/bin/python bench/coordinator_reports.py [--members 2000] [--rounds 30] [--keep]

It makes its own database (the URL's name, dropped first if there), migrates it and seeds one
circle with a year of life, in bulk (COPY) but as the services would have left it:
`--members` members joining through the year, each with the member role and a wallet, their
status changes audited as `membership.status_changed` (pending → active, some on to grace and
lapsed), 200 helpers (60 of them members who became helpers), and the ledger's rows, balanced
transaction by transaction (the database's deferred check proves it at commit) with an audit
row each: purchases, gifts, and for every task its hold and then its settle (escrow → the
helper's wallet or paid_help, the rest back) or its release; the tasks themselves with their
holds, categories, and times asked, accepted and settled.

Then, signed in as the circle's coordinator through Django's test `Client` in-process (the
server's whole work: middleware, view, the selectors' SQL, the SVG templates; no network), it
asks for `/coordinator/{slug}/reports/` `--rounds` times, and, taking turns with it, the same
figures written as plain SQL by hand (eight statements over the same rows). It prints p50 and
p95 of both, the page's SQL alone, and whether the page's p95 is under the 300 ms target; it
exits non-zero when it is not. The database is dropped at the end unless `--keep`.

`measure_reports(circle, coordinator)` is the measuring part alone, for bench/coordinator.py to
call on its own (larger) data.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.console import setup_django  # noqa: E402
from bench.ledger import database_drop, database_recreate  # noqa: E402
from bench.matching import Loader, next_id  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/circle_reports_bench"
RNG_SEED = 20261202
SLUG = "reports-bench"
TARGET_MS = 300.0
HELPERS = 200
BECAME_HELPERS = 60
TASKS_PER_MEMBER = 6
PURCHASES_PER_MEMBER = 8


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# --- Seeding ----------------------------------------------------------------------------------


def seed(members: int, rng: random.Random) -> tuple[Any, Any, dict[str, int]]:
    """The circle, its coordinator, and how many rows of each kind were written."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from circle.models import Category
    from circle.services import circle_create
    from members.models import RoleName
    from members.services import staff_grant
    from tokens.models import AccountKind
    from tokens.selectors import ledger_audit
    from tokens.services import system_account_id

    call_command("migrate", verbosity=0)
    circle = circle_create(
        slug=SLUG, name="Reports Bench", postcode="SE1 7PB", radius_km=Decimal("8")
    )
    coordinator = staff_grant(
        circle=circle, email="coordinator@reports.example", role=RoleName.COORDINATOR,
        password="x" * 12,
    )  # fmt: skip
    system: dict[str, int] = {
        str(kind): system_account_id(circle.pk, kind) for kind in AccountKind if kind != "wallet"
    }
    categories = list(Category.objects.filter(circle=circle).values_list("id", flat=True))
    now = datetime.now(UTC)
    year_ago = now - timedelta(days=365)
    counts: dict[str, int] = {}

    def when(start: datetime, end: datetime) -> datetime:
        return start + (end - start) * rng.random()

    with transaction.atomic():
        # Members, joining through the year; the first HELPERS - BECAME_HELPERS joined as
        # helpers, the rest as members (with the member role).
        first_member = next_id("members_member")
        joined: list[datetime] = []
        loader = Loader(
            "members_member",
            ["id", "circle_id", "full_name", "phone", "postcode", "latitude", "longitude",
             "membership_status", "joined_via", "created_at", "date_of_birth", "address_line1"],
        )  # fmt: skip
        statuses: list[str] = []
        total = members + HELPERS - BECAME_HELPERS
        for n in range(total):
            at = when(year_ago, now - timedelta(hours=1))
            joined.append(at)
            helper_only = n < HELPERS - BECAME_HELPERS
            roll = rng.random()
            status = (
                "pending"
                if helper_only or roll < 0.05
                else "lapsed"
                if roll < 0.10 and at < now - timedelta(days=90)
                else "grace"
                if roll < 0.17 and at < now - timedelta(days=40)
                else "active"
            )
            statuses.append(status)
            loader.add(
                first_member + n, circle.pk, f"Member {n}", f"+4477009{n:05d}", "SE1 7PB",
                "51.49900", "-0.10000", status, "helper_signup" if helper_only else "phone",
                at.isoformat(), "1950-01-01", f"{n} Bench Road",
            )  # fmt: skip
        loader.flush()
        ids = [first_member + n for n in range(total)]
        member_ids = ids[HELPERS - BECAME_HELPERS :]
        helper_member_ids = ids[: HELPERS - BECAME_HELPERS] + member_ids[:BECAME_HELPERS]
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO members_role (circle_id, member_id, role, granted_at) "
                "SELECT %s, id, 'member', created_at FROM members_member "
                "WHERE id = ANY(%s)",
                [circle.pk, member_ids],
            )
            cursor.execute(
                "INSERT INTO members_role (circle_id, member_id, role, granted_at) "
                "SELECT %s, id, 'helper', created_at FROM members_member WHERE id = ANY(%s)",
                [circle.pk, helper_member_ids],
            )
        counts["members"] = total

        # Status changes, audited as payments/services/membership.py writes them.
        audit = Loader(
            "members_auditevent",
            ["circle_id", "actor_id", "member_id", "action", "reason", "call_reference", "data",
             "created_at"],
        )  # fmt: skip
        for member_id, at, status in zip(ids, joined, statuses, strict=True):
            path = {
                "pending": [],
                "active": ["active"],
                "grace": ["active", "grace"],
                "lapsed": ["active", "grace", "lapsed"],
            }[status]
            old, moment = "pending", at
            for new in path:
                moment = when(moment, min(moment + timedelta(days=60), now))
                audit.add(
                    circle.pk, None, member_id, "membership.status_changed", "paid", "",
                    f'{{"from": "{old}", "to": "{new}", "period_id": null}}', moment.isoformat(),
                )  # fmt: skip
                old = new
        audit.flush()

        # Wallets and helpers.
        first_account = next_id("tokens_account")
        wallets = Loader("tokens_account", ["id", "circle_id", "kind", "member_id", "balance",
                                            "created_at"])  # fmt: skip
        wallet_of: dict[int, int] = {}
        for n, member_id in enumerate(ids):
            wallet_of[member_id] = first_account + n
            wallets.add(first_account + n, circle.pk, "wallet", member_id, 0, joined[n].isoformat())
        wallets.flush()
        first_helper = next_id("helpers_helper")
        helpers = Loader(
            "helpers_helper",
            ["id", "circle_id", "member_id", "kind", "postcode", "latitude", "longitude",
             "travel_radius_km", "vetting_level", "suspended", "suspended_reason", "paused",
             "created_at"],
        )  # fmt: skip
        helper_rows: list[tuple[int, int, str]] = []
        for n, member_id in enumerate(helper_member_ids):
            kind = "paid" if n % 5 == 0 else "volunteer"
            start = joined[ids.index(member_id)]
            became = when(start, now) if n >= HELPERS - BECAME_HELPERS else start
            helpers.add(
                first_helper + n, circle.pk, member_id, kind, "SE1 7PB", "51.49900", "-0.10000",
                "5.0", "enhanced", "false", "", "false", became.isoformat(),
            )  # fmt: skip
            helper_rows.append((first_helper + n, member_id, kind))
        helpers.flush()
        counts["helpers"] = len(helper_rows)

        # The ledger, with an audit row a transaction, and the tasks with their holds. Its
        # triggers stamp every transaction with the present (the database's own clock) and
        # refuse any other time, so a year's past cannot be written through them: they are
        # off for this transaction only (session_replication_role), the balances are set to
        # their entries' sums, and `ledger_audit` then proves every invariant from the rows.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        tx_id = next_id("tokens_transaction")
        hold_id = next_id("tokens_hold")
        transactions = Loader(
            "tokens_transaction",
            ["id", "circle_id", "kind", "memo", "idempotency_key", "member_id", "actor_id",
             "reverses_id", "created_at"],
        )  # fmt: skip
        entries = Loader("tokens_entry", ["transaction_id", "account_id", "minutes"])
        holds = Loader(
            "tokens_hold",
            ["id", "circle_id", "member_id", "reference", "minutes", "status",
             "hold_transaction_id", "close_transaction_id", "created_at"],
        )  # fmt: skip
        tasks = Loader(
            "matching_task",
            ["circle_id", "member_id", "category_id", "title", "details", "window_start",
             "window_end", "estimated_minutes", "status", "latitude", "longitude",
             "postcode_district", "hold_id", "helper_id", "minutes_reported", "minutes_billed",
             "minutes_settled", "cancel_reason", "created_at", "accepted_at", "completed_at",
             "closed_at", "offer_wave"],
        )  # fmt: skip

        def post(kind: str, member_id: int, at: datetime, legs: list[tuple[int, int]]) -> int:
            nonlocal tx_id
            this = tx_id
            tx_id += 1
            transactions.add(
                this, circle.pk, kind, kind, f"{kind}:bench-{this}", member_id, None, None,
                at.isoformat(),
            )  # fmt: skip
            for account, minutes in legs:
                if minutes:
                    entries.add(this, account, minutes)
            audit.add(
                circle.pk, None, member_id, f"tokens.{kind}", "", "",
                f'{{"kind": "{kind}", "transaction_id": {this}}}', at.isoformat(),
            )  # fmt: skip
            return this

        volunteers = [(h, m) for h, m, kind in helper_rows if kind == "volunteer"]
        paid = [(h, m) for h, m, kind in helper_rows if kind == "paid"]
        task_count = 0
        for n, member_id in enumerate(member_ids):
            start = joined[HELPERS - BECAME_HELPERS + n]
            wallet = wallet_of[member_id]
            bought = sorted(when(start, now) for _ in range(PURCHASES_PER_MEMBER))
            # A first purchase on joining pays for everything after it (the wallet's CHECK
            # is on the balance after each statement, which this keeps true at every step).
            bought[0] = start
            for at in bought:
                post("purchase", member_id, at, [(system["issuance"], -120), (wallet, 120)])
            if n % 2 == 0:
                post("gift", member_id, when(start, now), [(wallet, -30), (system["pot"], 30)])
            for _ in range(TASKS_PER_MEMBER):
                asked = when(start, now - timedelta(days=3))
                if asked < start:
                    continue
                minutes = rng.choice((60, 90, 120))
                hold_tx = post("hold", member_id, asked, [(wallet, -minutes),
                                                          (system["escrow"], minutes)])  # fmt: skip
                roll = rng.random()
                helper, helper_member = rng.choice(paid if roll < 0.2 else volunteers)
                wait = timedelta(minutes=rng.lognormvariate(5, 1.2))
                accepted = asked + wait
                window = asked + timedelta(days=2) + wait
                done = min(window + timedelta(hours=2), now)
                if roll < 0.9 and accepted < now:
                    worked = rng.choice((30, 60, minutes))
                    to = system["paid_help"] if roll < 0.2 else wallet_of[helper_member]
                    close = post(
                        "settle", member_id, done,
                        [(system["escrow"], -minutes), (to, worked), (wallet, minutes - worked)],
                    )  # fmt: skip
                    status, closed = "settled", done
                else:
                    close = post("release", member_id, done,
                                 [(system["escrow"], -minutes), (wallet, minutes)])  # fmt: skip
                    status, closed, worked = "cancelled", done, 0
                holds.add(
                    hold_id, circle.pk, member_id, f"task:bench-{hold_id}", minutes,
                    "settled" if status == "settled" else "released", hold_tx, close,
                    asked.isoformat(),
                )  # fmt: skip
                settled = status == "settled"
                tasks.add(
                    circle.pk, member_id, rng.choice(categories), "Bench task", "",
                    window.isoformat(), (window + timedelta(hours=2)).isoformat(), minutes,
                    status, "51.49900", "-0.10000", "SE1", hold_id,
                    helper if settled else None, worked if settled else None,
                    worked if settled else None, worked if settled else None, "",
                    asked.isoformat(), accepted.isoformat() if settled else None,
                    done.isoformat() if settled else None, closed.isoformat(), 1,
                )  # fmt: skip
                hold_id += 1
                task_count += 1
            for loader_ in (transactions, entries, holds, tasks, audit):
                if loader_.full:
                    # Transactions before their entries, holds before their tasks.
                    for ordered in (transactions, entries, holds, tasks, audit):
                        ordered.flush()
        for ordered in (transactions, entries, holds, tasks, audit):
            ordered.flush()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tokens_account a SET balance = s.minutes FROM (SELECT account_id, "
                "sum(minutes) AS minutes FROM tokens_entry GROUP BY account_id) s "
                "WHERE a.id = s.account_id"
            )
            cursor.execute("SET LOCAL session_replication_role = origin")
        counts["tasks"] = task_count
        counts["ledger transactions"] = transactions.count
        counts["ledger entries"] = entries.count
        counts["audit rows"] = audit.count
        with connection.cursor() as cursor:
            for table in ("members_member", "tokens_account", "helpers_helper",
                          "tokens_transaction", "tokens_hold"):  # fmt: skip
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    audit_report = ledger_audit(circle=circle)
    if not audit_report.ok:
        raise RuntimeError(f"the seeded ledger is not sound: {audit_report.problems[:5]}")
    return circle, coordinator, counts


# --- Measuring --------------------------------------------------------------------------------

# The same figures as the page's selectors, written by hand for PostgreSQL: no ORM, no Python
# running sums, no templates. %(circle)s, %(start)s, %(end)s.
PLAIN_SQL = (
    """SELECT date_trunc('month', m.created_at AT TIME ZONE 'Europe/London'), count(*)
       FROM members_member m JOIN members_role r ON r.member_id = m.id AND r.role = 'member'
       WHERE m.circle_id = %(circle)s AND m.created_at < %(end)s GROUP BY 1""",
    """SELECT date_trunc('month', a.created_at AT TIME ZONE 'Europe/London'),
              a.data ->> 'from', a.data ->> 'to', count(*)
       FROM members_auditevent a
       JOIN members_role r ON r.member_id = a.member_id AND r.role = 'member'
       WHERE a.circle_id = %(circle)s AND a.action = 'membership.status_changed'
         AND a.created_at < %(end)s
       GROUP BY 1, 2, 3""",
    """SELECT date_trunc('month', t.created_at AT TIME ZONE 'Europe/London'),
              sum(e.minutes) FILTER (WHERE k.kind = 'purchase' AND a.kind = 'wallet'),
              sum(e.minutes) FILTER (WHERE k.kind = 'settle' AND a.kind = 'wallet'
                                     AND a.member_id IS DISTINCT FROM t.member_id),
              sum(e.minutes) FILTER (WHERE k.kind = 'settle' AND a.kind IN ('wallet', 'paid_help')
                                     AND a.member_id IS DISTINCT FROM t.member_id),
              sum(e.minutes) FILTER (WHERE k.kind = 'gift' AND (a.kind = 'pot' OR
                                     (a.kind = 'wallet' AND a.member_id <> t.member_id)))
       FROM tokens_transaction t
       CROSS JOIN LATERAL (SELECT coalesce((SELECT o.kind FROM tokens_transaction o
                                            WHERE o.id = t.reverses_id), t.kind) AS kind) k
       JOIN tokens_entry e ON e.transaction_id = t.id
       JOIN tokens_account a ON a.id = e.account_id
       WHERE t.circle_id = %(circle)s AND t.created_at >= %(start)s AND t.created_at < %(end)s
         AND t.kind IN ('purchase', 'settle', 'gift', 'reversal')
       GROUP BY 1""",
    """SELECT date_trunc('week', created_at AT TIME ZONE 'Europe/London'), count(*)
       FROM matching_task WHERE circle_id = %(circle)s
         AND created_at >= %(start)s AND created_at < %(end)s GROUP BY 1""",
    """SELECT date_trunc('week', accepted_at AT TIME ZONE 'Europe/London'), count(*)
       FROM matching_task WHERE circle_id = %(circle)s
         AND accepted_at >= %(start)s AND accepted_at < %(end)s GROUP BY 1""",
    """SELECT date_trunc('week', closed_at AT TIME ZONE 'Europe/London'), count(*)
       FROM matching_task WHERE circle_id = %(circle)s AND status = 'settled'
         AND closed_at >= %(start)s AND closed_at < %(end)s GROUP BY 1""",
    """SELECT category_id,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY accepted_at - created_at),
              percentile_cont(0.9) WITHIN GROUP (ORDER BY accepted_at - created_at)
       FROM matching_task WHERE circle_id = %(circle)s
         AND accepted_at >= %(start)s AND accepted_at < %(end)s GROUP BY 1""",
    """SELECT c.name, count(t.id), coalesce(sum(t.minutes_reported), 0)
       FROM circle_category c LEFT JOIN matching_task t ON t.category_id = c.id
         AND t.status = 'settled' AND t.closed_at >= %(start)s AND t.closed_at < %(end)s
       WHERE c.circle_id = %(circle)s GROUP BY c.id, c.name""",
    """SELECT date_trunc('month', h.created_at AT TIME ZONE 'Europe/London'), count(*)
       FROM helpers_helper h JOIN members_member m ON m.id = h.member_id
       JOIN members_role r ON r.member_id = m.id AND r.role = 'member'
       WHERE h.circle_id = %(circle)s AND m.joined_via <> 'helper_signup'
         AND h.created_at >= %(start)s AND h.created_at < %(end)s GROUP BY 1""",
)


def measure_reports(
    circle: Any, coordinator: Any, *, rounds: int = 30, warmup: int = 3
) -> dict[str, float]:
    """The reports page (the last 12 months) through Django as `coordinator` (a Member), and
    its figures as plain SQL, taking turns, `rounds` times each; p50 and p95 in ms of the page,
    of the page's SQL alone (its queries' time, from the connection's log) and of the plain
    SQL. Call it inside `django.setup()`, with DEBUG off."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from circle.periods import report_period

    client = Client()
    client.force_login(coordinator.user)
    url = f"/coordinator/{circle.slug}/reports/"
    period = report_period()
    params = {"circle": circle.pk, "start": period.start, "end": period.end}
    page_ms: list[float] = []
    page_sql_ms: list[float] = []
    plain_ms: list[float] = []

    def page(record: bool) -> None:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            took = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if record:
            page_ms.append(took)
            page_sql_ms.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)

    def plain(record: bool) -> None:
        began = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in PLAIN_SQL:
                cursor.execute(statement, params)
                cursor.fetchall()
        if record:
            plain_ms.append((time.perf_counter() - began) * 1000)

    for _ in range(warmup):
        page(False)
        plain(False)
    for n in range(rounds):
        for side in (page, plain) if n % 2 == 0 else (plain, page):
            side(True)
    return {
        "page_p50": pct(page_ms, 0.5),
        "page_p95": pct(page_ms, 0.95),
        "page_sql_p50": pct(page_sql_ms, 0.5),
        "page_sql_p95": pct(page_sql_ms, 0.95),
        "plain_sql_p50": pct(plain_ms, 0.5),
        "plain_sql_p95": pct(plain_ms, 0.95),
    }


def report(figures: dict[str, float], *, target: bool = True) -> bool:
    """Print the figures; with `target`, whether the page's p95 is under TARGET_MS (the
    issue's target, for a year of a 2,000-member circle) and return it."""
    print(f"{'':<22}{'p50 ms':>8}{'p95 ms':>8}")
    for label, key in (
        ("reports page", "page"),
        ("  its SQL alone", "page_sql"),
        ("plain SQL (by hand)", "plain_sql"),
    ):
        print(f"{label:<22}{figures[key + '_p50']:>8.1f}{figures[key + '_p95']:>8.1f}")
    passed = figures["page_p95"] < TARGET_MS
    print(
        f"\npage/plain SQL p95: {figures['page_p95'] / figures['plain_sql_p95']:.1f}; "
        f"the load average: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)"
    )
    if not target:
        return True
    print(
        f"the reports page's p95: {figures['page_p95']:.1f} ms; target < {TARGET_MS:g} ms: "
        f"{'PASS' if passed else 'FAIL'}"
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2000, help="members in the circle")
    parser.add_argument("--rounds", type=int, default=30, help="times the page is measured")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        parser.error("DATABASE_URL must name PostgreSQL")

    database_recreate(url)
    passed = False
    try:
        setup_django(url)
        began = time.monotonic()
        circle, coordinator, counts = seed(args.members, random.Random(RNG_SEED))
        print(
            f"seeded in {time.monotonic() - began:.0f} s: "
            + ", ".join(f"{n:,} {what}" for what, n in counts.items())
        )
        figures = measure_reports(circle, coordinator, rounds=args.rounds)
        print(f"the last 12 months, {args.rounds} rounds each, taking turns:\n")
        passed = report(figures)
    finally:
        from django.db import connection

        connection.close()
        if not args.keep:
            database_drop(url)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
