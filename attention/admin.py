from __future__ import annotations

from typing import Any

from django.contrib import admin

from attention.models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    """Read here; raised by the apps' services and marked done through the API, which audit."""

    list_display = ["id", "circle", "member", "kind", "cause", "phone", "created_at", "done_at"]
    list_filter = ["circle", "kind"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
