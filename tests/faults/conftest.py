"""The fault tests' own world: a throwaway PostgreSQL cluster and Redis on ports of their own, the
app under gunicorn (deploy/gunicorn.conf.py, production settings), a real Celery worker (prefork,
one pool process) and the local Stripe, all made here for the session and removed after it.

Run by `scripts/test_faults` (and `.ci/run`), which sets CIRCLE_FAULTS and points DATABASE_URL
and CELERY_BROKER_URL at these ports before Django starts; the normal run never collects this
directory (tests/conftest.py), so the suite's database is never touched. The test process
writes its personas with the ORM into the same database (`transaction=True`, so gunicorn and
the worker see them), speaks to the app over HTTP, and stops, kills and restarts the services.
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from kombu import pools
from rest_framework.authtoken.models import Token

from circle.celery import app
from members.models import Member
from payments.stripe_local import LocalStripe, _Server, make_server

# The matching tests' people and request body, reused as they are.
from tests.matching.conftest import task_body, world  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Only a bound on a broken run, so that it fails instead of hanging; no timing is asserted.
WAIT_SECONDS = 60
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook/"
WEBHOOK_SECRET = "whsec_faults"


def wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    assert path, f"no {name}: install PostgreSQL's server binaries"
    return path


class Postgres:
    """A cluster of our own in a temporary directory. PostgreSQL refuses to run as root, so as
    root (CI) its commands run as the `postgres` user."""

    def __init__(self, base: Path, port: int) -> None:
        self.port = port
        self.data = base / "pg"
        self.log = base / "pg.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            os.chmod(base, 0o755)  # noqa: S103  # the postgres user must reach its directory
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres")

    def _run(self, *args: str) -> None:
        command = [*self.as_user, *args]
        subprocess.run(command, check=True, capture_output=True, cwd="/")  # noqa: S603

    def create(self) -> None:
        self._run(
            _pg_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start()

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            *args,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        """Fast shutdown: sessions are cut, transactions in flight roll back."""
        self._ctl("stop", "-m", "fast")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate")


class Redis:
    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "no redis-server"
        self.proc = subprocess.Popen(  # noqa: S603
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            cwd=self.log.parent,
        )
        wait_for(lambda: port_open(self.port), "redis-server to listen")

    def stop_if_up(self) -> None:
        if self.proc is not None:
            self.stop()

    def stop(self) -> None:
        """Gone, with whatever it held (no persistence: a queued message is lost with it)."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(30)
        self.proc = None
        wait_for(lambda: not port_open(self.port), "redis-server to stop listening")


@dataclass
class Worker:
    """`celery -A circle worker`, prefork with one pool process, logging to a file."""

    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.write_text("")
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603
                [
                    str(VENV_BIN / "celery"),
                    "-A",
                    "circle",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    "faults@%h",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: " ready." in self.log.read_text(), "the worker to be ready")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def pool_pids(self) -> list[int]:
        """The pool processes (children of the worker's main process)."""
        assert self.proc is not None
        pid = self.proc.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]

    def outcome(self, task_id: str) -> str | None:
        """What the worker logged the task as returning ("succeeded in ...: <value>"), None
        until it has; a failure fails the test."""
        for line in self.log.read_text().splitlines():
            if f"[{task_id}]" not in line:
                continue
            assert "raised" not in line, line
            found = re.search(r"succeeded in [\d.]+s: (.*)$", line)
            if found:
                return found.group(1)
        return None


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


@dataclass
class Stack:
    base: Path
    pg: Postgres
    redis: Redis
    worker: Worker
    web_url: str
    stripe: LocalStripe
    stripe_port: int
    env: dict[str, str]
    mail_dir: Path
    gunicorn: subprocess.Popen[bytes] | None = None
    stripe_server: _Server | None = None
    _stripe_thread: threading.Thread | None = field(default=None, repr=False)

    # --- HTTP ------------------------------------------------------------------------------

    @staticmethod
    def token_for(who: Member) -> str:
        token, _ = Token.objects.get_or_create(user=who.user)
        return token.key

    def request(
        self, method: str, path: str, body: Any = None, *, who: Member | str | None = None
    ) -> Answer:
        """One request to gunicorn as `who` (a member, or their token: threads have no
        database of their own); a hang fails the test (timeout) rather than the run."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if who is not None:
            key = who if isinstance(who, str) else self.token_for(who)
            headers["Authorization"] = f"Token {key}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310  # our own gunicorn
            self.web_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
                return Answer(response.status, _json(response.read()))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, _json(exc.read()))

    # --- The worker ------------------------------------------------------------------------

    def run(self, name: str) -> str:
        """Queue the periodic task `name` (as beat would) and wait for the worker's answer."""
        fresh_broker_pools()
        result = app.send_task(name)
        found: list[str] = []

        def done() -> bool:
            value = self.worker.outcome(result.id)
            if value is not None:
                found.append(value)
            return bool(found)

        wait_for(done, f"the worker to run {name}")
        return found[0]

    # --- Mail the worker sent --------------------------------------------------------------

    def mail_to(self) -> list[str]:
        """Every recipient of every email sent so far (the file backend's files), sorted."""
        found: list[str] = []
        for path in self.mail_dir.glob("*.log"):
            found += re.findall(r"^To: (.+)$", path.read_text(), flags=re.MULTILINE)
        return sorted(found)

    # --- Stripe ----------------------------------------------------------------------------

    def stripe_up(self) -> None:
        server = make_server(port=self.stripe_port)
        server.state = self.stripe  # the same Stripe, back on the same address
        self.stripe_server = server
        self._stripe_thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._stripe_thread.start()

    def stripe_down_if_up(self) -> None:
        if self.stripe_server is not None:
            self.stripe_down()

    def stripe_down(self) -> None:
        assert self.stripe_server is not None
        assert self._stripe_thread is not None
        self.stripe_server.shutdown()
        self.stripe_server.server_close()
        self._stripe_thread.join()
        self.stripe_server = None

    # --- Checks after each test --------------------------------------------------------------

    def ledger_audit(self) -> str:
        """`manage.py ledger_audit` against the cluster, as an operator would run it."""
        done = subprocess.run(
            [sys.executable, "manage.py", "ledger_audit"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def fresh_broker_pools() -> None:
    # The test process's connections to a Redis that was stopped are dead: start afresh.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _check_isolated() -> tuple[int, int]:
    """The ports scripts/test_faults chose; refuses to run against anything else."""
    assert os.environ.get("CIRCLE_FAULTS"), "run the fault tests with scripts/test_faults"
    db = settings.DATABASES["default"]
    assert db["ENGINE"].startswith("django.db.backends.postgresql"), "DATABASE_URL: PostgreSQL"
    pg_port = int(db["PORT"])
    assert pg_port != 5432, "the fault tests make their own cluster; never the suite's"
    broker = urlsplit(settings.CELERY_BROKER_URL)
    assert broker.port, "CELERY_BROKER_URL names no port"
    assert broker.port != 6379, "the fault tests make their own Redis"
    assert not port_open(pg_port), f"port {pg_port} is taken: is an old fault run still up?"
    assert not port_open(broker.port), f"port {broker.port} is taken"
    return pg_port, broker.port


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    pg_port, redis_port = _check_isolated()
    base = Path(tempfile.mkdtemp(prefix="circle-faults-"))
    mail_dir = base / "mail"
    mail_dir.mkdir()
    pg = Postgres(base, pg_port)
    redis = Redis(redis_port, base / "redis.log")
    web_port, stripe_port = free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    env = {
        **os.environ,
        # Production mode, as deployed.
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": web_url,
        "SECURE_SSL_REDIRECT": "false",
        "BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        # The sweeps send whatever is unsent when they run, so the tests need not wait a minute.
        "OUTBOX_SWEEP_AFTER_SECONDS": "0",
        # One helper a wave, so that a wave is one notice.
        "MATCHING_OFFER_WAVE_SIZE": "1",
        "STRIPE_SECRET_KEY": "sk_test_faults",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    stripe = make_server(port=stripe_port, webhook_secret=WEBHOOK_SECRET)
    state = stripe.state
    stripe.server_close()  # only its state: stripe_up() serves it
    state.webhook_url = web_url + WEBHOOK_PATH
    state.base_url = env["STRIPE_API_BASE"]
    built = Stack(
        base=base,
        pg=pg,
        redis=redis,
        worker=Worker(env=env, log=base / "worker.log"),
        web_url=web_url,
        stripe=state,
        stripe_port=stripe_port,
        env=env,
        mail_dir=mail_dir,
    )
    try:
        pg.create()
        redis.start()
        built.stripe_up()
        yield built
    finally:
        for stop in (
            _stop_gunicorn(built),
            built.worker.stop,
            built.stripe_down_if_up,
            redis.stop_if_up,
            pg.destroy,
        ):
            try:
                stop()
            except Exception as exc:  # every service is stopped, whatever one of them did
                print(f"faults: stopping: {exc!r}", file=sys.stderr)
        if os.environ.get("CIRCLE_FAULTS_KEEP"):
            print(f"faults: logs kept in {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


def _stop_gunicorn(built: Stack) -> Callable[[], None]:
    def stop() -> None:
        if built.gunicorn is not None:
            built.gunicorn.terminate()
            built.gunicorn.wait(30)

    return stop


@pytest.fixture(scope="session")
def django_db_setup(stack: Stack, django_db_blocker: Any) -> None:
    """The database is the cluster's own, made once and migrated; no test database beside it.
    Then gunicorn and the worker start, against the migrated schema."""
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", port=stack.pg.port, user="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{settings.DATABASES["default"]["NAME"]}"')
    admin.close()
    with django_db_blocker.unblock():
        call_command("migrate", verbosity=0)
    access = (stack.base / "gunicorn.log").open("ab")
    stack.gunicorn = subprocess.Popen(  # noqa: S603
        [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
        env=stack.env,
        cwd=ROOT,
        stdout=access,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: _answers(stack.web_url + "/healthz"), "gunicorn to answer")
    stack.worker.start()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def faults(stack: Stack, transactional_db: None) -> Iterator[Stack]:
    """The stack for one test: services up, no mail yet, the queue empty; afterwards every
    service is up again and `manage.py ledger_audit` is clean (the suite's own audit runs
    too, in this process)."""
    if stack.redis.proc is None:
        stack.redis.start()
    for path in stack.mail_dir.iterdir():
        path.unlink()
    fresh_broker_pools()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)
    yield stack
    if stack.redis.proc is None:
        stack.redis.start()
    if stack.stripe_server is None:
        stack.stripe_up()
    assert "ledger ok" in stack.ledger_audit()
