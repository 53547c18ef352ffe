"""A text's circle had an index of its own beside `messaging_sms_member`, which starts with it.

The index alone is dropped: see `circle.migration_ops.index_dropped`.
"""

import django.db.models.deletion
from django.db import migrations, models

from circle.migration_ops import index_dropped


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
                index_dropped(table='messaging_sms', column='circle_id', index='messaging_sms_circle_id_d91264f9'),
            ],
        ),
    ]
