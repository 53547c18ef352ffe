"""The operators' follow-ups move to the circle's one attention queue (attention.Item).

Rows keep their ids (the API's /followups/{id}/done/ and the audit rows' followup_id still
name them), and the period or refund that raised each becomes its `cause`. Reversible: going
back copies the items these kinds cover into a new follow-ups table.
"""

from django.core.management.color import no_style
from django.db import migrations

FIELDS = ["id", "circle_id", "member_id", "kind", "phone", "note", "created_at", "done_at",
          "done_by_id", "done_note"]


def _reset_sequence(schema_editor, model):
    # Rows were written with their ids; PostgreSQL's sequence must start after them.
    connection = schema_editor.connection
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forwards(apps, schema_editor):
    FollowUp = apps.get_model("payments", "FollowUp")
    Item = apps.get_model("attention", "Item")
    items = []
    for followup in FollowUp.objects.order_by("id").iterator():
        cause = ""
        if followup.period_id is not None:
            cause = f"membership_period:{followup.period_id}"
        elif followup.refund_id is not None:
            cause = f"refund:{followup.refund_id}"
        items.append(
            Item(cause=cause, **{name: getattr(followup, name) for name in FIELDS})
        )
    Item.objects.bulk_create(items, batch_size=500)
    if items:
        _reset_sequence(schema_editor, Item)


def backwards(apps, schema_editor):
    FollowUp = apps.get_model("payments", "FollowUp")
    Item = apps.get_model("attention", "Item")
    kinds = ["renewal_reminder", "renewal_failed", "grace", "lapsed", "refund_shortfall"]
    followups = []
    for item in Item.objects.filter(kind__in=kinds).order_by("id").iterator():
        prefix, _, ident = item.cause.partition(":")
        followups.append(
            FollowUp(
                period_id=int(ident) if prefix == "membership_period" else None,
                refund_id=int(ident) if prefix == "refund" else None,
                **{name: getattr(item, name) for name in FIELDS},
            )
        )
    FollowUp.objects.bulk_create(followups, batch_size=500)
    Item.objects.filter(kind__in=kinds).delete()
    if followups:
        _reset_sequence(schema_editor, FollowUp)


class Migration(migrations.Migration):

    dependencies = [
        ("attention", "0001_initial"),
        ("payments", "0002_stripe"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="FollowUp"),
    ]
