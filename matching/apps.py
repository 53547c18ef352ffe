from __future__ import annotations

from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from matching.export import member_export_part
        from members.export import export_part_register

        export_part_register(name="help", part=member_export_part)

        # Erasing a member's data (members/erasure.py), and a ledger memo's task read through
        # the task (tokens.memos).
        from matching.erase import (
            erase_part,
            erase_refusal,
            erase_words,
            memos_describe,
            retention_activity,
        )
        from members.erasure import (
            erase_part_register,
            erase_refusal_register,
            erase_words_register,
            retention_activity_register,
        )
        from tokens.memos import memo_describer_register

        erase_refusal_register(name="matching", refusal=erase_refusal)
        erase_words_register(name="matching", words=erase_words)
        erase_part_register(name="matching", part=erase_part)
        retention_activity_register(name="matching", activity=retention_activity)
        memo_describer_register(name="matching", describer=memos_describe)
