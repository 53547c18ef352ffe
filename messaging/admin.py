from __future__ import annotations

from typing import Any

from django.contrib import admin

from messaging.models import Sms


@admin.register(Sms)
class SmsAdmin(admin.ModelAdmin[Sms]):
    """Read here: written by `messaging.services` as texts go out and receipts come in."""

    list_display = ["id", "circle", "member", "to", "provider", "status", "sent_at"]
    list_filter = ["circle", "provider", "status"]
    search_fields = ["to", "provider_id", "reference"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
