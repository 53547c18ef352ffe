"""What Circle's migrations share."""

from __future__ import annotations

from django.db import migrations


def index_dropped(*, table: str, column: str, index: str) -> migrations.RunSQL:
    """Drop the index Django made for a foreign key whose field now says `db_index=False` (in
    the migration's state operations). A statement rather than AlterField, which would make
    SQLite rebuild the table, and the tables the ledger's triggers name do not survive that;
    the index has the same name on both databases. Undone by making it again."""
    return migrations.RunSQL(
        f"DROP INDEX IF EXISTS {index}",
        reverse_sql=f"CREATE INDEX {index} ON {table} ({column})",
    )
