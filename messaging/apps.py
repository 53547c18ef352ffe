from __future__ import annotations

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Text messages"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from members.export import export_part_register
        from messaging.export import member_export_part

        export_part_register(name="messaging", part=member_export_part)
