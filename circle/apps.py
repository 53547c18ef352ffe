from __future__ import annotations

from django.apps import AppConfig


class CircleConfig(AppConfig):
    name = "circle"
    verbose_name = "Circles"

    def ready(self) -> None:
        # Registers the schema's description of our session authentication.
        from circle import schema  # noqa: F401
