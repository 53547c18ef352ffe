"""An account's and a hold's circle each had an index of its own beside one that starts with it
(`tokens_account_trial_order`, the hold's unique reference).

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
        ('tokens', '0006_account_trial_order'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='account',
                    name='circle',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='circle.circle'),
                ),
                migrations.AlterField(
                    model_name='hold',
                    name='circle',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='circle.circle'),
                ),
            ],
            database_operations=[
                dropped('tokens_account', 'circle_id', 'tokens_account_circle_id_c9d039b0'),
                dropped('tokens_hold', 'circle_id', 'tokens_hold_circle_id_a71961d0'),
            ],
        ),
    ]
