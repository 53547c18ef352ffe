from __future__ import annotations

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        # This app's part of a member's data export (members/export.py says why so).
        from members.export import export_part_register
        from payments.export import member_export_part

        export_part_register(name="payments", part=member_export_part)

        # And its part of erasing a member's data (members/erasure.py).
        from members.erasure import (
            erase_part_register,
            erase_refusal_register,
            erase_words_register,
        )
        from payments.erase import erase_part, erase_refusal, erase_words, gift_memos_describe
        from tokens.memos import memo_describer_register

        erase_refusal_register(name="payments", refusal=erase_refusal)
        erase_words_register(name="payments", words=erase_words)
        erase_part_register(name="payments", part=erase_part)
        # A gift's giver, read through the gift where a ledger memo names it.
        memo_describer_register(name="payments", describer=gift_memos_describe)
