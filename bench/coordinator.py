"""The coordinators' desk benchmark: the ledger's transaction list (its first page and a page
10,000 rows in) at 1,000,000 ledger transactions in one circle, each beside the equivalent plain
SQL in the same run, and the accountant's CSV export's peak memory as its rows grow.

How to run (PostgreSQL; the role must be allowed to create databases):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/circle_coordinator_bench \\
        .venv/bin/python bench/coordinator.py [--transactions 1000000] [--rounds 200] [--keep]

It makes its own database (the URL's name, dropped first if there), migrates it and seeds one
circle (`seed`, reusable by other benches): `--members`
members (2,000) written with COPY, a coordinator, and `--transactions` ledger transactions
(1,000,000, two entries each) over `--days` days (365) up to now, written by bulk SQL into the
ledger's own tables: purchases, gifts between members and to the pot, grants, adjustments, and
holds each settled to another member's wallet. The ledger's triggers are switched off for the
load (`session_replication_role = replica`, in this session only: each refuses entries not
stamped with the database transaction's own time, and the load writes a year of history at
once), and everything they would do is done in bulk instead: every transaction balances, each
account's balance is set to its entries' sum, no wallet or the pot ends below zero (a wallet
that would is topped up by a last purchase), and escrow ends at 0 (every hold is settled). Then
`ledger_audit` checks the whole circle from the rows, as it checks any ledger, and the bench
stops if it finds a problem.

Then, through Django's test `Client` in-process (middleware, view, SQL, template; no network),
signed in as the coordinator, it asks for the transaction list's first page and for the page
10,000 rows in (keyset: `?before=<created_at.id>` of the 10,000th row), and the day-by-day
page (the last week's totals by kind, about 19,000 transactions), `--rounds` times each,
and beside each request, taking turns, the plain SQL a person would write for the same page
(one keyset statement joining the member's name, and one for the page's entries), on the same
connection; and, for contrast, the deep page by OFFSET. It prints p50 and p95 of each.

Last, the CSV export of date ranges holding about 10,000, 50,000 and 100,000 entries (rows),
streamed and read to the end under `tracemalloc`: the peak Python memory of each, which stays
flat as the rows grow because the rows are read through a server-side cursor in chunks and
written out line by line.

Then the reports page (the last 12 months: six charts and their tables) on the same million
transactions, 30 times beside the plain SQL of its figures, through
`bench.coordinator_reports.measure_reports` (its own script seeds a year of a 2,000-member
circle with tasks and helpers too, and holds the 300 ms target, for that year's 40,000
transactions). Exit status 1 when the export's memory is not flat.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
import tracemalloc
import warnings
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import database_drop, database_recreate  # noqa: E402
from bench.matching import Loader  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/circle_coordinator_bench"
SLUG = "coordinator-bench"
DEEP = 10_000  # rows in, for the deep page
PAGE = 50  # the list's page size (web/views/coordinator/ledger.py)
EXPORT_ROWS = (10_000, 50_000, 100_000)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circle.settings")
    # The settings' laptop defaults (production mode wants HTTPS and collected static files),
    # then run as production: no query log.
    os.environ["DEBUG"] = "true"
    import django
    from django.conf import settings

    django.setup()
    # The sign-in library's INFO lines and the missing collected static files say nothing here.
    logging.getLogger("axes").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at")
    settings.DEBUG = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


# --- Seeding ----------------------------------------------------------------------------------

# What each transaction is, by its number modulo 100: (first, last, kind, source, destination).
# A hold at 70 + k is settled by the transaction at 85 + k of the same hundred, for the same
# minutes, so escrow ends at 0 with nothing left held.
_PLAN_SQL = """
CREATE TEMP TABLE plan AS
SELECT g, kind, src, dst, a,
       -- the member receiving (a gift's, a settle's helper): always another member
       (a + 1 + h %% 7) %% %(members)s AS r,
       minutes, created_at
  FROM (
    SELECT g, h,
           CASE WHEN b < 40 THEN 'purchase' WHEN b < 65 THEN 'gift' WHEN b < 68 THEN 'grant'
                WHEN b < 70 THEN 'adjustment' WHEN b < 85 THEN 'hold' ELSE 'settle' END AS kind,
           CASE WHEN b < 40 THEN 'issuance' WHEN b < 65 THEN 'wallet' WHEN b < 68 THEN 'pot'
                WHEN b < 70 THEN 'adjustments' WHEN b < 85 THEN 'wallet'
                ELSE 'escrow' END AS src,
           CASE WHEN b < 60 THEN 'wallet' WHEN b < 65 THEN 'pot' WHEN b < 70 THEN 'wallet'
                WHEN b < 85 THEN 'escrow' ELSE 'wallet' END AS dst,
           -- the member giving or asking for help; for a settle, its hold's member
           (CASE WHEN b >= 85 THEN h15 ELSE h END) %% %(members)s AS a,
           CASE WHEN b < 40 THEN 60 * (1 + h %% 10)
                WHEN b < 70 THEN 15 * (1 + h %% 4)
                WHEN b < 85 THEN 30 * (1 + h %% 4)
                ELSE 30 * (1 + h15 %% 4) END AS minutes,
           %(start)s::timestamptz + (%(span)s::interval * (g::float8 / %(n)s)) AS created_at
      FROM (SELECT g, g %% 100 AS b, pg_temp.hashint(g) AS h, pg_temp.hashint(g - 15) AS h15
              FROM generate_series(0, %(n)s - 1) AS g) s
  ) p
"""

# A cheap, deterministic spread of integers (no random(): the same run gives the same data).
_HASH_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.hashint(x bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS
$$ SELECT abs(((x * 2654435761) # (x >> 7)) % 1000003) $$
"""


def seed(
    *, transactions: int = 1_000_000, members: int = 2000, days: int = 365
) -> tuple[Any, Any, dict[str, float]]:
    """Migrate, and seed one circle with `members` members, a coordinator, and `transactions`
    valid ledger transactions (rounded down to a whole hundred) over `days` days up to now.
    Returns the circle, the coordinator (a Member with a login) and the seconds each stage
    took. Stops (RuntimeError) if `ledger_audit` finds the seeded books do not hold."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from circle.services import circle_create
    from members.models import RoleName
    from members.services import staff_grant
    from tokens.models import AccountKind
    from tokens.selectors import ledger_audit
    from tokens.services import system_account_id

    n = max(100, transactions - transactions % 100)
    took: dict[str, float] = {}
    began = time.monotonic()
    call_command("migrate", verbosity=0)
    took["migrate"] = time.monotonic() - began

    began = time.monotonic()
    circle = circle_create(
        slug=SLUG, name="Coordinator Bench", postcode="SE1 7PB", radius_km=Decimal("8")
    )
    coordinator = staff_grant(
        circle=circle,
        email="coordinator@bench.example",
        role=RoleName.COORDINATOR,
        password="x" * 12,
    )
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows = Loader(
        "members_member",
        [
            "circle_id",
            "full_name",
            "phone",
            "date_of_birth",
            "address_line1",
            "postcode",
            "membership_status",
            "joined_via",
            "created_at",
        ],
    )
    for i in range(members):
        rows.add(
            circle.pk,
            f"Member {i:05d}",
            f"+44770090{i:04d}",
            "1950-01-01",
            f"{i} Bench Road",
            "SE1 7PB",
            "active",
            "phone",
            stamp,
        )
    rows.flush()
    for kind in AccountKind:
        if kind != AccountKind.WALLET:
            system_account_id(circle.pk, kind)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO members_role (circle_id, member_id, role, granted_at) "
            "SELECT circle_id, id, 'member', now() FROM members_member "
            "WHERE circle_id = %s AND user_id IS NULL",
            [circle.pk],
        )
        cursor.execute(
            "INSERT INTO tokens_account (circle_id, kind, member_id, balance, created_at) "
            "SELECT circle_id, 'wallet', id, 0, now() FROM members_member "
            "WHERE circle_id = %s AND user_id IS NULL ORDER BY id",
            [circle.pk],
        )
    took["members and accounts"] = time.monotonic() - began

    began = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        # This session only: the ledger's triggers (see the module docstring) are off while the
        # history is written, and their work is done in bulk below.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(_HASH_SQL)
        cursor.execute(
            _PLAN_SQL,
            {
                "members": members,
                "n": n,
                "start": now - timedelta(days=days),
                "span": f"{days} days",
            },
        )
        # Each kind's accounts: the wallets numbered 0.. in member order.
        cursor.execute(
            "CREATE TEMP TABLE w AS SELECT (row_number() OVER (ORDER BY member_id)) - 1 AS i, "
            "id AS account_id, member_id FROM tokens_account "
            "WHERE circle_id = %s AND kind = 'wallet'",
            [circle.pk],
        )
        cursor.execute("CREATE INDEX ON w (i)")
        cursor.execute(
            "CREATE TEMP TABLE sys AS SELECT kind, id AS account_id FROM tokens_account "
            "WHERE circle_id = %s AND kind <> 'wallet'",
            [circle.pk],
        )
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM tokens_transaction")
        (base,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO tokens_transaction
                (id, circle_id, kind, memo, idempotency_key, member_id, actor_id, reverses_id,
                 created_at)
            SELECT %(base)s + 1 + p.g, %(circle)s, p.kind,
                   CASE p.kind WHEN 'purchase' THEN 'Tokens bought'
                               WHEN 'grant' THEN 'Granted from the pot'
                               WHEN 'adjustment' THEN 'Adjustment by a coordinator'
                               WHEN 'hold' THEN 'Held for a request'
                               WHEN 'settle' THEN 'Paid for help'
                               ELSE '' END,
                   'bench:' || p.g, wa.member_id, NULL, NULL, p.created_at
              FROM plan p JOIN w wa ON wa.i = p.a
            """,
            {"base": base, "circle": circle.pk},
        )
        cursor.execute(
            """
            INSERT INTO tokens_entry (transaction_id, account_id, minutes)
            SELECT %(base)s + 1 + p.g, leg.account_id, leg.minutes
              FROM plan p
              JOIN w wa ON wa.i = p.a
              JOIN w wr ON wr.i = p.r
              LEFT JOIN sys ss ON ss.kind = p.src
              LEFT JOIN sys sd ON sd.kind = p.dst
             CROSS JOIN LATERAL (VALUES
                   (CASE WHEN p.src = 'wallet' THEN wa.account_id ELSE ss.account_id END,
                    -p.minutes),
                   (CASE WHEN p.dst <> 'wallet' THEN sd.account_id
                         WHEN p.kind IN ('gift', 'settle') THEN wr.account_id
                         ELSE wa.account_id END,
                    p.minutes)) AS leg(account_id, minutes)
             ORDER BY 1, 2
            """,
            {"base": base},
        )
        # A wallet that would end below zero is topped up by one last purchase of the
        # difference (stamped now): members buy before they spend.
        cursor.execute(
            """
            CREATE TEMP TABLE short AS
            SELECT e.account_id, a.member_id, -SUM(e.minutes) AS minutes,
                   row_number() OVER (ORDER BY e.account_id) AS k
              FROM tokens_entry e JOIN tokens_account a ON a.id = e.account_id
             WHERE a.circle_id = %s AND a.kind = 'wallet'
             GROUP BY e.account_id, a.member_id HAVING SUM(e.minutes) < 0
            """,
            [circle.pk],
        )
        top = base + 1 + n
        cursor.execute(
            """
            INSERT INTO tokens_transaction
                (id, circle_id, kind, memo, idempotency_key, member_id, created_at)
            SELECT %(top)s + k, %(circle)s, 'purchase', 'Tokens bought', 'bench:top:' || k,
                   member_id, %(now)s FROM short
            """,
            {"top": top, "circle": circle.pk, "now": now},
        )
        cursor.execute(
            """
            INSERT INTO tokens_entry (transaction_id, account_id, minutes)
            SELECT %(top)s + k, account_id, minutes FROM short
            UNION ALL
            SELECT %(top)s + k, (SELECT account_id FROM sys WHERE kind = 'issuance'), -minutes
              FROM short
            """,
            {"top": top},
        )
        # Each balance is its entries' sum (what the entry trigger keeps true row by row).
        cursor.execute(
            """
            UPDATE tokens_account a SET balance = s.total
              FROM (SELECT account_id, SUM(minutes) AS total FROM tokens_entry
                     GROUP BY account_id) s
             WHERE a.id = s.account_id AND a.circle_id = %s
            """,
            [circle.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
        for table in ("tokens_transaction", "tokens_entry"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tokens_transaction")
        cursor.execute("VACUUM ANALYZE tokens_entry")
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM tokens_transaction WHERE circle_id = %s), "
            "(SELECT COUNT(*) FROM tokens_entry)",
            [circle.pk],
        )
        counted = cursor.fetchone()
    took[f"{counted[0]:,} transactions, {counted[1]:,} entries (bulk SQL)"] = (
        time.monotonic() - began
    )

    began = time.monotonic()
    report = ledger_audit(circle=circle)
    took["ledger_audit"] = time.monotonic() - began
    if not report.ok:
        raise RuntimeError(f"the seeded books do not hold: {report.problems[:5]}")
    return circle, coordinator, took


# --- Measuring --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


_PLAIN_PAGE = """
SELECT t.id, t.kind, t.memo, t.member_id, m.full_name, t.reverses_id, t.created_at
  FROM tokens_transaction t LEFT JOIN members_member m ON m.id = t.member_id
 WHERE t.circle_id = %s {keyset}
 ORDER BY t.created_at DESC, t.id DESC
 {limit}
"""
_PLAIN_ENTRIES = """
SELECT e.transaction_id, e.account_id, a.kind, a.member_id, m.full_name, e.minutes
  FROM tokens_entry e JOIN tokens_account a ON a.id = e.account_id
  LEFT JOIN members_member m ON m.id = a.member_id
 WHERE e.transaction_id = ANY(%s) ORDER BY e.transaction_id, e.id
"""


def plain(circle_id: int, cursor_at: Any = None, *, offset: int = 0) -> int:
    """The list's page as a person would write it by hand: the keyset page (or OFFSET) and its
    entries, two statements, no template."""
    from django.db import connection

    keyset = "AND (t.created_at, t.id) < (%s, %s)" if cursor_at else ""
    limit = f"LIMIT {PAGE + 1}" + (f" OFFSET {offset}" if offset else "")
    params: list[Any] = [circle_id]
    if cursor_at:
        params += [cursor_at.created_at, cursor_at.id]
    with connection.cursor() as cursor:
        cursor.execute(_PLAIN_PAGE.format(keyset=keyset, limit=limit), params)
        ids = [row[0] for row in cursor.fetchall()][:PAGE]
        cursor.execute(_PLAIN_ENTRIES, [ids])
        cursor.fetchall()
    return len(ids)


_PLAIN_DAYS = """
SELECT (t.created_at AT TIME ZONE 'Europe/London')::date AS day, t.kind,
       COUNT(DISTINCT t.id), SUM(e.minutes) FILTER (WHERE e.minutes > 0), SUM(e.minutes)
  FROM tokens_transaction t JOIN tokens_entry e ON e.transaction_id = t.id
 WHERE t.circle_id = %s
   AND t.created_at >= date_trunc('day', now() AT TIME ZONE 'Europe/London')
                       AT TIME ZONE 'Europe/London' - interval '6 days'
 GROUP BY 1, 2 ORDER BY 1 DESC, 2
"""


def plain_days(circle_id: int) -> int:
    """Day by day's totals as a person would write them: one GROUP BY over the week."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_PLAIN_DAYS, [circle_id])
        return len(cursor.fetchall())


def measure_list(circle: Any, coordinator: Any, rounds: int) -> dict[str, list[float]]:
    from django.db import connection
    from django.test import Client

    from tokens.books import Cursor

    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(coordinator.user)
    base = f"/coordinator/{circle.slug}/ledger/transactions/"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT created_at, id FROM tokens_transaction WHERE circle_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [circle.pk, DEEP - 1],
        )
        created_at, tx_id = cursor.fetchone()
    deep = Cursor(created_at, tx_id)
    times: dict[str, list[float]] = {}

    def page(query: dict[str, str], url: str = base, links: int = PAGE) -> float:
        began = time.perf_counter()
        response = client.get(url, query)
        ms = (time.perf_counter() - began) * 1000
        if response.status_code != 200 or response.content.count(b"/ledger/transactions/") < links:
            raise RuntimeError(f"{url}?{query} answered {response.status_code}")
        return ms

    def timed(fn: Any) -> float:
        began = time.perf_counter()
        fn()
        return (time.perf_counter() - began) * 1000

    sides = {
        "first page": lambda: page({}),
        "first SQL": lambda: timed(lambda: plain(circle.pk)),
        "deep page": lambda: page({"before": deep.token()}),
        "deep SQL": lambda: timed(lambda: plain(circle.pk, deep)),
        "deep SQL OFFSET": lambda: timed(lambda: plain(circle.pk, offset=DEEP)),
        # Day by day: the last week's totals by kind (about 19,000 transactions here).
        "days page": lambda: page({}, f"/coordinator/{circle.slug}/ledger/days/", 7),
        "days SQL": lambda: timed(lambda: plain_days(circle.pk)),
    }
    for fn in sides.values():  # warm-up
        for _ in range(5):
            fn()
    times.update({name: [] for name in sides})
    for n in range(rounds):
        order = list(sides.items()) if n % 2 == 0 else list(reversed(sides.items()))
        for name, fn in order:
            times[name].append(fn())
    return times


def measure_export(circle: Any, coordinator: Any) -> list[tuple[int, int, float, float]]:
    """For each target, the newest London days holding at least that many entries, exported:
    (rows, days, peak MB, seconds)."""
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(coordinator.user)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (t.created_at AT TIME ZONE 'Europe/London')::date AS day, COUNT(*) "
            "FROM tokens_entry e JOIN tokens_transaction t ON t.id = e.transaction_id "
            "WHERE t.circle_id = %s AND t.created_at > now() - interval '60 days' "
            "GROUP BY 1 ORDER BY 1 DESC",
            [circle.pk],
        )
        per_day = cursor.fetchall()
    results = []
    today = per_day[0][0] if per_day else None
    for target in EXPORT_ROWS:
        total, since = 0, today
        for day, count in per_day:
            total += count
            since = day
            if total >= target:
                break
        assert since is not None
        assert today is not None
        url = f"/coordinator/{circle.slug}/ledger/export/"
        tracemalloc.start()
        began = time.perf_counter()
        response = client.get(url, {"since": since.isoformat(), "until": today.isoformat()})
        lines = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results.append((lines - 1, (today - since).days + 1, peak / 1e6, seconds))
    return results


def server_line() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('jit')")
        version, jit = cursor.fetchone()
    return f"PostgreSQL {version}, jit {jit} (this session)"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=200, help="requests of each kind")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        parser.error("DATABASE_URL must name PostgreSQL")

    database_recreate(url)
    passed = True
    try:
        setup_django(url)
        circle, coordinator, took = seed(
            transactions=args.transactions, members=args.members, days=args.days
        )
        print(server_line())
        print("seeding: " + ", ".join(f"{stage} {sec:.1f} s" for stage, sec in took.items()))
        print("ledger_audit over the seeded circle: the books hold\n")

        times = measure_list(circle, coordinator, args.rounds)
        print(
            f"the transaction list, {args.rounds} requests of each (page and plain SQL taking "
            f"turns), ms:"
        )
        print(f"{'':<18}{'p50':>8}{'p95':>8}")
        for name, values in times.items():
            print(f"{name:<18}{pct(values, 0.5):>8.1f}{pct(values, 0.95):>8.1f}")
        for which in ("first", "deep", "days"):
            ratio = pct(times[f"{which} page"], 0.95) / pct(times[f"{which} SQL"], 0.95)
            print(f"{which} page p95 / its plain SQL p95: {ratio:.1f}x")

        print("\nthe CSV export, streamed and read to the end under tracemalloc:")
        print(f"{'rows':>9}{'days':>6}{'peak MB':>9}{'seconds':>9}")
        exports = measure_export(circle, coordinator)
        for rows, days, peak, seconds in exports:
            print(f"{rows:>9,}{days:>6}{peak:>9.2f}{seconds:>9.2f}")
        flat = exports[-1][2] < 2 * exports[0][2]
        print(
            "peak memory at the largest export is "
            f"{exports[-1][2] / exports[0][2]:.2f}x the smallest's for "
            f"{exports[-1][0] / max(1, exports[0][0]):.0f}x the rows: "
            f"{'flat' if flat else 'NOT FLAT'}"
        )
        passed = passed and flat

        # --- The reports (bench/coordinator_reports.py) on the same million rows -----------
        from bench.coordinator_reports import measure_reports
        from bench.coordinator_reports import report as reports_report

        print(f"\nthe reports page, the last 12 months, at {args.transactions:,} transactions:\n")
        # Each render reads a year's rows: 30 turns each side are enough for a p95.
        figures = measure_reports(circle, coordinator, rounds=min(args.rounds, 30))
        # The 300 ms target is for a year of a 2,000-member circle (about 40,000 transactions:
        # bench/coordinator_reports.py); a million is 25 times that, and is read beside its SQL.
        reports_report(figures, target=False)
    finally:
        from django.db import connection

        connection.close()
        if not args.keep:
            database_drop(url)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
