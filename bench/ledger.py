"""The ledger benchmark: transfers per second through `tokens.services.transfer_create`, next to
what PostgreSQL does with the same workload written as a plain pgbench script.

How to run (PostgreSQL only; the role must be allowed to create databases):

    DATABASE_URL=postgres://circle_ci:circle_ci@127.0.0.1:5432/circle_bench \\
        .venv/bin/python bench/ledger.py [--wallets 1000] [--seconds 6] [--rounds 3] [--keep]

It takes about five minutes. It creates the database named in the URL (dropping it first if it is
there), migrates it, makes one circle with `--wallets` members, each funded through the real
`purchase_credit` service, then for two workloads

- `pairs`: one minute from a random wallet to another random wallet,
- `pot`:   one minute from a random wallet into the circle's pot (one hot row),

it measures, with 1 and with 4 OS processes (spawned, each with `django.setup()` and its own
connection, a warm-up and then `--seconds` of transfers; only successful transfers count;
`--rounds` alternating runs of each side, whose medians are compared):

- ours:    `transfer_create` called directly (no HTTP), and
- pgbench: `/usr/bin/pgbench -n -c P -j P -T seconds` on plain tables in the same database,
           `bench_account(id, balance CHECK (balance >= 0))` with the same number of rows and
           `bench_transfer`, one transaction per transfer: BEGIN; lock both rows in id order;
           read the source balance; two UPDATEs; one INSERT; COMMIT.

It prints a table of both rates and their ratio against the target (ours at least 0.8 of pgbench
at 4 processes, for both workloads), the number of SQL statements one transfer sends (counted
with Django's CaptureQueriesContext once the caches of account ids are warm), the machine's core
count and the server settings that matter (JIT is switched off for every session of both sides:
nothing here is costly enough to be compiled, so it would only add noise). At the end the
database is dropped, unless `--keep`.

Both sides share the machine with the server: on a machine with few cores the Python processes
take CPU the server would otherwise use, which pgbench's C client hardly does. That is part of
what the ratio measures.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://circle_ci:circle_ci@127.0.0.1:5432/circle_bench"
PGBENCH = "/usr/bin/pgbench"
# The same for both sides: every session, Django's and pgbench's, starts with these settings.
SESSION_OPTIONS = "-c jit=off"
WORKLOADS = ("pairs", "pot")
TARGET = 0.8  # ours / pgbench, at the largest process count
FUNDING = 500_000  # minutes per wallet: far more than any run can spend one minute at a time
SLUG = "bench"

PGBENCH_SCRIPT = """\
\\set a random(1, :n)
{choose_b}
BEGIN;
SELECT id FROM bench_account WHERE id IN (:a, :b) ORDER BY id FOR UPDATE;
SELECT balance FROM bench_account WHERE id = :a;
UPDATE bench_account SET balance = balance - 1 WHERE id = :a;
UPDATE bench_account SET balance = balance + 1 WHERE id = :b;
INSERT INTO bench_transfer (src, dst, minutes, created_at) VALUES (:a, :b, 1, now());
COMMIT;
"""
# Another wallet than :a, uniformly: an offset of 1 to n-1 from it, wrapping round.
PGBENCH_CHOOSE_B = {
    "pairs": "\\set b (:a + random(0, :n - 2)) % :n + 1",
    "pot": "\\set b :pot",
}


def setup_django(url: str) -> None:
    """Configure Django for this process: the bench database, JIT off, no query log."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circle.settings")
    os.environ["PGOPTIONS"] = SESSION_OPTIONS  # libpq reads it when psycopg2 connects
    import django
    from django.conf import settings

    django.setup()
    # DEBUG (the laptop default) makes Django time and keep every query; production does not.
    settings.DEBUG = False


# --- The database -----------------------------------------------------------------------------


def admin_connect(url: str) -> Any:
    """A connection to the server's `postgres` database, to create and drop the bench one."""
    import dj_database_url
    import psycopg2

    db = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn


def database_name(url: str) -> str:
    import dj_database_url

    return str(dj_database_url.parse(url)["NAME"])


def database_recreate(url: str) -> None:
    name = database_name(url)
    conn = admin_connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def database_drop(url: str) -> None:
    conn = admin_connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    conn.close()


def seed(wallets: int) -> None:
    """Migrate; one circle with `wallets` members (each with a login, the gift's actor), each
    wallet funded through `purchase_credit`; and pgbench's tables with the same rows."""
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from circle.services import circle_create
    from members.models import JoinedVia, Member, User
    from tokens.models import AccountKind
    from tokens.services import purchase_credit, system_account_id

    call_command("migrate", verbosity=0)
    circle = circle_create(slug=SLUG, name="Bench", postcode="SE1 7PB", radius_km=Decimal("8"))
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(email=f"bench{i}@example.org", full_name=f"Bench {i}", password=unusable)
        for i in range(wallets)
    )
    members = Member.objects.bulk_create(
        Member(circle=circle, user=user, full_name=user.full_name, joined_via=JoinedVia.ONLINE)
        for user in users
    )
    for member in members:
        purchase_credit(
            member=member, minutes=FUNDING, payment_key=f"bench-{member.pk}", actor=None
        )
    system_account_id(circle.pk, AccountKind.POT)  # opened now, not raced for by the workers
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_account"
            " (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))"
        )
        cursor.execute(
            "CREATE TABLE bench_transfer (id bigserial PRIMARY KEY, src bigint NOT NULL,"
            " dst bigint NOT NULL, minutes bigint NOT NULL, created_at timestamptz NOT NULL)"
        )
        # Wallets 1..n, and the pot as n + 1 (empty, as ours starts).
        cursor.execute(
            "INSERT INTO bench_account (id, balance)"
            " SELECT i, CASE WHEN i <= %s THEN %s ELSE 0 END FROM generate_series(1, %s + 1) i",
            [wallets, FUNDING, wallets],
        )
        cursor.execute("VACUUM ANALYZE")


# --- Our side ---------------------------------------------------------------------------------


@dataclass
class WorkerResult:
    transfers: int
    failures: int
    seconds: float
    error: str = ""


def _transfer_loop(members: list[Any], pot: bool, label: str, deadline: float) -> tuple[int, int]:
    """Transfers of one minute until `deadline`: (successes, refusals)."""
    from circle.errors import DomainError
    from tokens.services import transfer_create

    done = refused = 0
    count = len(members)
    while time.monotonic() < deadline:
        source_index = random.randrange(count)
        source = members[source_index]
        # Another wallet than the source, uniformly (the same choice as pgbench's script).
        other = (source_index + random.randrange(1, count)) % count
        destination = None if pot else members[other]
        try:
            transfer_create(
                source=source,
                destination=destination,
                minutes=1,
                memo="",
                actor=source.user,
                idempotency_key=f"{label}-{done + refused}",
            )
            done += 1
        except DomainError:
            refused += 1
    return done, refused


def worker(
    url: str, workload: str, label: str, warmup: float, seconds: float, start: Any, out: Any
) -> None:
    """One process of our side: set up, warm up, wait for the others, then transfer."""
    try:
        setup_django(url)
        from members.models import Member
        from tokens.services import system_account_id, wallet_id

        members = list(
            Member.objects.filter(circle__slug=SLUG).select_related("circle", "user").order_by("id")
        )
        # The process's cache of account ids, warm as a long-running server's is; a short
        # warm-up alone would leave most of 1,000 wallets cold.
        for member in members:
            wallet_id(member)
        system_account_id(members[0].circle_id, "pot")
        pot = workload == "pot"
        _transfer_loop(members, pot, f"{label}-warm", time.monotonic() + warmup)
        start.wait(timeout=120)
        began = time.monotonic()
        done, refused = _transfer_loop(members, pot, label, began + seconds)
        out.put(WorkerResult(done, refused, time.monotonic() - began))
    except Exception as exc:
        out.put(WorkerResult(0, 0, 0.0, error=f"{type(exc).__name__}: {exc}"))


def ours(url: str, workload: str, processes: int, warmup: float, seconds: float) -> float:
    """Our transfers per second with `processes` processes, all transferring at once."""
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(processes)
    out = ctx.Queue()
    label = f"{workload}-{processes}-{time.time_ns()}"
    procs = [
        ctx.Process(
            target=worker,
            args=(url, workload, f"{label}-{i}", warmup, seconds, start, out),
            daemon=True,
        )
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    results: list[WorkerResult] = []
    try:
        for _ in procs:
            results.append(out.get(timeout=warmup + seconds + 180))
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():  # never left behind, whatever went wrong
                proc.terminate()
                proc.join()
    errors = [result.error for result in results if result.error]
    if errors:
        raise RuntimeError(f"a worker failed: {errors[0]}")
    refused = sum(result.failures for result in results)
    if refused:
        print(f"  note: {refused} transfers were refused (not counted)")
    return sum(result.transfers / result.seconds for result in results)


# --- pgbench's side ---------------------------------------------------------------------------


def pgbench(url: str, workload: str, clients: int, seconds: float, wallets: int) -> float:
    import dj_database_url

    db = dj_database_url.parse(url)
    env = {
        **os.environ,
        "PGHOST": str(db["HOST"]),
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": str(db["USER"]),
        "PGPASSWORD": str(db["PASSWORD"]),
        "PGDATABASE": str(db["NAME"]),
        "PGOPTIONS": SESSION_OPTIONS,
    }
    script = PGBENCH_SCRIPT.format(choose_b=PGBENCH_CHOOSE_B[workload])
    with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="bench-ledger-") as file:
        file.write(script)
        file.flush()
        command = [
            PGBENCH,
            "-n",
            "-c",
            str(clients),
            "-j",
            str(clients),
            "-T",
            str(max(1, round(seconds))),
            "-D",
            f"n={wallets}",
            "-D",
            f"pot={wallets + 1}",
            "-f",
            file.name,
        ]
        run = subprocess.run(  # noqa: S603 (our own fixed command)
            command, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False
        )
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout)
    if run.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    failed = re.search(r"number of failed transactions: (\d+)", run.stdout)
    if failed and int(failed.group(1)):
        print(f"  note: pgbench had {failed.group(1)} failed transactions")
    return float(found.group(1))


# --- Statements per transfer ------------------------------------------------------------------


def statements_per_transfer(workload: str, transfers: int = 20) -> tuple[float, float]:
    """SQL statements one transfer sends, (warm, fresh): with the caches of account ids warm
    and the member objects reused; and with members freshly read, as a request would have them.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.models import Member
    from tokens.services import transfer_create

    members = list(Member.objects.filter(circle__slug=SLUG).select_related("user").order_by("id"))
    pot = workload == "pot"
    label = f"count-{workload}-{time.time_ns()}"

    def one(i: int, source: Any, destination: Any) -> None:
        transfer_create(
            source=source,
            destination=None if pot else destination,
            minutes=1,
            memo="",
            actor=source.user,
            idempotency_key=f"{label}-{i}",
        )

    for i, member in enumerate(members):  # warm up: every account id cached once
        one(i, member, members[i - 1])
    with CaptureQueriesContext(connection) as warm:
        for i in range(transfers):
            one(len(members) + i, members[i], members[i + 1])
    fresh_pairs = []
    for i in range(transfers):
        source, destination = (Member.objects.get(pk=members[j].pk) for j in (i, i + 1))
        source.user = members[i].user  # the request's own user, already at hand
        fresh_pairs.append((source, destination))
    with CaptureQueriesContext(connection) as fresh:
        for i, (source, destination) in enumerate(fresh_pairs):
            one(len(members) + transfers + i, source, destination)
    return len(warm) / transfers, len(fresh) / transfers


# --- The run ----------------------------------------------------------------------------------


def server_facts() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('synchronous_commit'),"
            " current_setting('fsync'), current_setting('jit'),"
            " current_setting('shared_buffers')"
        )
        version, sync, fsync, jit, buffers = cursor.fetchone()
    return {
        "server": f"PostgreSQL {version}",
        "synchronous_commit": sync,
        "fsync": fsync,
        "jit (this session)": jit,
        "shared_buffers": buffers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wallets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=6.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time before each")
    parser.add_argument("--processes", default="1,4", help="comma-separated process counts")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating runs of each side per cell; the medians are compared",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("the ledger benchmark needs PostgreSQL: DATABASE_URL=postgres://...")
    if not shutil.which(PGBENCH):
        parser.error(f"{PGBENCH} is needed (apt install postgresql-client)")
    counts = [int(count) for count in args.processes.split(",")]

    database_recreate(url)
    try:
        setup_django(url)
        from django.db import connection

        began = time.monotonic()
        seed(args.wallets)
        print(f"seeded {args.wallets} funded wallets in {time.monotonic() - began:.1f} s")
        facts = server_facts()
        statements = {workload: statements_per_transfer(workload) for workload in WORKLOADS}
        connection.close()  # the workers have their own

        rows = []
        for workload in WORKLOADS:
            for processes in counts:
                # pgbench warms its tables the way our workers warm theirs, unmeasured.
                pgbench(url, workload, processes, args.warmup, args.wallets)
                # The two sides take turns, round after round, so that a slow spell of a
                # shared machine falls on both rather than on one; the medians are compared.
                mine_runs, theirs_runs = [], []
                for _ in range(args.rounds):
                    theirs_runs.append(
                        pgbench(url, workload, processes, args.seconds, args.wallets)
                    )
                    mine_runs.append(ours(url, workload, processes, args.warmup, args.seconds))
                mine, theirs = statistics.median(mine_runs), statistics.median(theirs_runs)
                rows.append((workload, processes, mine, theirs))
                print(
                    f"  {workload} x{processes}: ours {mine:.0f}/s "
                    f"({', '.join(f'{r:.0f}' for r in mine_runs)}), "
                    f"pgbench {theirs:.0f} tps ({', '.join(f'{r:.0f}' for r in theirs_runs)})"
                )

        print()
        print(f"cores: {os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})")
        for name, value in facts.items():
            print(f"{name}: {value}")
        print(f"session options, both sides: {SESSION_OPTIONS}")
        print(
            f"wallets: {args.wallets}; {args.rounds} alternating rounds of {args.seconds:g} s per"
            f" side after {args.warmup:g} s warm-up; medians compared"
        )
        for workload, (warm, fresh) in statements.items():
            print(
                f"SQL statements per transfer ({workload}): {warm:g} with warm caches;"
                f" {fresh:g} with member objects fresh from the database"
            )
        print()
        header = f"{'workload':<9}{'procs':>6}{'ours/s':>10}{'pgbench tps':>13}{'ratio':>8}  target"
        print(header)
        print("-" * len(header))
        passed = True
        for workload, processes, mine, theirs in rows:
            ratio = mine / theirs if theirs else 0.0
            verdict = ""
            if processes == max(counts):
                ok = ratio >= TARGET
                passed &= ok
                verdict = f">= {TARGET:g}: {'PASS' if ok else 'FAIL'}"
            print(
                f"{workload:<9}{processes:>6}{mine:>10.0f}{theirs:>13.0f}{ratio:>8.2f}  {verdict}"
            )
        return 0 if passed else 1
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept database {database_name(url)}")
        else:
            database_drop(url)


if __name__ == "__main__":
    sys.exit(main())
