from __future__ import annotations

from django.apps import AppConfig


class HelpersConfig(AppConfig):
    name = "helpers"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from helpers.export import member_export_part
        from members.export import export_part_register

        export_part_register(name="helper", part=member_export_part)

        # And its part of erasing a member's data (members/erasure.py).
        from helpers.erase import erase_part
        from members.erasure import erase_part_register

        erase_part_register(name="helpers", part=erase_part)
