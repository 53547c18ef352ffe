from __future__ import annotations

from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from matching.export import member_export_part
        from members.export import export_part_register

        export_part_register(name="help", part=member_export_part)
