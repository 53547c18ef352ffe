"""The settings module: production refuses to start without what it needs, and passes Django's
deployment checks when given it; the laptop default runs SQLite in WAL mode."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Settings the test run itself may have in its environment and that would change the outcome.
OUR_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "TRUST_X_FORWARDED",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "DJANGO_SETTINGS_MODULE",
    "SMS_BACKEND",
)
LAPTOP_KEY = "django-insecure-circle-laptop-key-never-use-in-production"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in OUR_VARIABLES}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48)[:64],
        "ALLOWED_HOSTS": "circle.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "SITE_URL": "https://circle.example.org",
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return manage("check", "--deploy", "--fail-level", "WARNING", **env)


def test_production_settings_pass_the_deploy_check(production: dict[str, str]) -> None:
    assert len(production["SECRET_KEY"]) == 64

    result = check_deploy(production)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": LAPTOP_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "too-short-a-secret"}, "SECRET_KEY"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"SITE_URL": ""}, "SITE_URL"),
        ({"SITE_URL": "circle.example.org"}, "SITE_URL"),
    ],
)
def test_production_refuses_to_start_without_what_it_needs(
    production: dict[str, str], change: dict[str, str], named: str
) -> None:
    env = {**production, **change}
    env = {key: value for key, value in env.items() if value != ""}

    result = check_deploy(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.splitlines()[-1]


def test_production_names_everything_missing_at_once(tmp_path: Path) -> None:
    result = check_deploy({"DEBUG": "0"})

    assert result.returncode != 0
    message = result.stderr.splitlines()[-1]
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "SITE_URL"):
        assert name in message


def test_debug_must_be_a_boolean(production: dict[str, str]) -> None:
    result = check_deploy({**production, "DEBUG": "maybe"})

    assert result.returncode != 0
    assert "DEBUG" in result.stderr.splitlines()[-1]


def test_laptop_database_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "laptop.sqlite3"
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode')\n"
        "    print(cursor.fetchone()[0])\n"
    )

    result = manage("shell", "-c", code, DATABASE_URL=f"sqlite:///{db}")

    assert result.returncode == 0, result.stderr
    # The shell may print a line of its own first; ours is the last.
    assert result.stdout.strip().splitlines()[-1] == "wal"
    # WAL is a property of the file: a fresh connection that knows nothing of our settings
    # sees it too.
    with closing(sqlite3.connect(db)) as fresh:
        assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_periodic_job_names_a_registered_celery_task() -> None:
    from circle.celery import app

    # What a worker does at start: import every app's tasks module.
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
