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

        # And its part of erasing a member's data (members/erasure.py).
        from members.erasure import erase_part_register
        from messaging.erase import erase_part

        erase_part_register(name="messaging", part=erase_part)
