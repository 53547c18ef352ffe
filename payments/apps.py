from __future__ import annotations

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from members.export import export_part_register
        from payments.export import member_export_part

        export_part_register(name="payments", part=member_export_part)
