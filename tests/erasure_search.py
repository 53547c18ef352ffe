"""Where a piece of text is still held: every text and JSON column of every table Django
knows (our apps', the login's, django-axes', DRF's tokens'), searched case-insensitively.
The test of erasure asks it for a member's name, email, phone and address."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.db.models.functions import Cast

_TEXT = (models.CharField, models.TextField, models.JSONField)


def rows_quoting(needle: str) -> list[str]:
    """`table.column #id` of every row whose column contains `needle`."""
    found: list[str] = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, _TEXT):
                continue
            rows = model._default_manager.annotate(
                _as_text=Cast(field.attname, models.TextField())
            ).filter(_as_text__icontains=needle)
            found += [
                f"{model._meta.db_table}.{field.column} #{pk}"
                for pk in rows.values_list("pk", flat=True)
            ]
    return found
