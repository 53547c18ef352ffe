"""A task's member and helper, and a notice's task, each had an index of its own beside the
composite one that starts with it (`matching_task_member`, `matching_task_helper`,
`matching_notice_task`) and serves every lookup by it: each booking and acceptance paid for both.

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
                dropped('matching_task', 'member_id', 'matching_task_member_id_862b39c3'),
                dropped('matching_task', 'helper_id', 'matching_task_helper_id_445d87f2'),
                dropped('matching_notice', 'task_id', 'matching_notice_task_id_32727d47'),
            ],
        ),
    ]
