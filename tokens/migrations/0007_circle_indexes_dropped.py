"""An account's and a hold's circle each had an index of its own beside one that starts with it
(`tokens_account_trial_order`, the hold's unique reference).

The index alone is dropped: see `circle.migration_ops.index_dropped`.
"""

import django.db.models.deletion
from django.db import migrations, models

from circle.migration_ops import index_dropped


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
                index_dropped(table='tokens_account', column='circle_id', index='tokens_account_circle_id_c9d039b0'),
                index_dropped(table='tokens_hold', column='circle_id', index='tokens_hold_circle_id_a71961d0'),
            ],
        ),
    ]
