"""A text's circle had an index of its own beside `messaging_sms_member`, which starts with it.

Only the index is dropped (SeparateDatabaseAndState): altering the field would make SQLite
rebuild the table, which its triggers do not survive, for an index both databases name alike.
"""

import django.db.models.deletion
from django.db import migrations, models


def dropped(table: str, column: str, index: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"DROP INDEX IF EXISTS {index}",
        reverse_sql=f"CREATE INDEX {index} ON {table} ({column})",
    )


class Migration(migrations.Migration):

    dependencies = [
        ('circle', '0005_circle_no_helper_warning_hours'),
        ('messaging', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='sms',
                    name='circle',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='circle.circle'),
                ),
            ],
            database_operations=[
                dropped('messaging_sms', 'circle_id', 'messaging_sms_circle_id_d91264f9'),
            ],
        ),
    ]
