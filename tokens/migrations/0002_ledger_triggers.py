from __future__ import annotations

from typing import Any

from django.db import migrations

from tokens import ledger_sql


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"the ledger's invariants are written for PostgreSQL and SQLite, not {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": ledger_sql.POSTGRES_FORWARD, "sqlite": ledger_sql.SQLITE_FORWARD}),
            _run({"postgresql": ledger_sql.POSTGRES_REVERSE, "sqlite": ledger_sql.SQLITE_REVERSE}),
        ),
    ]
