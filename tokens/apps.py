from __future__ import annotations

from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from members.export import export_part_register
        from tokens.export import member_export_part

        export_part_register(name="tokens", part=member_export_part)

        # And its part of erasing a member's data (members/erasure.py).
        from members.erasure import erase_part_register, erase_refusal_register
        from tokens.erase import erase_part, erase_refusal

        erase_refusal_register(name="tokens", refusal=erase_refusal)
        erase_part_register(name="tokens", part=erase_part)
