from __future__ import annotations

from django.apps import AppConfig


class AttentionConfig(AppConfig):
    name = "attention"
    verbose_name = "Attention queue"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from attention.export import member_export_part, safeguarding_audit
        from members.export import export_audit_hide_register, export_part_register

        export_part_register(name="attention", part=member_export_part)
        export_audit_hide_register(name="attention", hidden=safeguarding_audit)

        # And its part of erasing a member's data (members/erasure.py).
        from attention.erase import erase_part, erase_refusal
        from members.erasure import erase_part_register, erase_refusal_register

        erase_refusal_register(name="attention", refusal=erase_refusal)
        erase_part_register(name="attention", part=erase_part)
