"""A task's member and helper, and a notice's task, each had an index of its own beside the
composite one that starts with it (`matching_task_member`, `matching_task_helper`,
`matching_notice_task`) and serves every lookup by it: each booking and acceptance paid for both.

The index alone is dropped: see `circle.migration_ops.index_dropped`.
"""

import django.db.models.deletion
from django.db import migrations, models

from circle.migration_ops import index_dropped


class Migration(migrations.Migration):

    dependencies = [
        ('helpers', '0005_vetting_certificate_erased'),
        ('matching', '0005_feedback_desk_indexes'),
        ('members', '0006_trusted_person'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='notice',
                    name='task',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='notices', to='matching.task'),
                ),
                migrations.AlterField(
                    model_name='task',
                    name='helper',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='tasks', to='helpers.helper'),
                ),
                migrations.AlterField(
                    model_name='task',
                    name='member',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='tasks', to='members.member'),
                ),
            ],
            database_operations=[
                index_dropped(table='matching_task', column='member_id', index='matching_task_member_id_862b39c3'),
                index_dropped(table='matching_task', column='helper_id', index='matching_task_helper_id_445d87f2'),
                index_dropped(table='matching_notice', column='task_id', index='matching_notice_task_id_32727d47'),
            ],
        ),
    ]
