from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    """The pages people use, over every app's services and selectors (STYLE.md, "Pages")."""

    name = "web"
    default_auto_field = "django.db.models.BigAutoField"
