from __future__ import annotations

from typing import Any

from django.contrib import admin

from tokens.models import Account, Approval, Entry, Hold, LedgerTransaction


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """The ledger is written only by its services (and the database refuses edits): the admin
    shows it and changes nothing."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class EntryInline(admin.TabularInline[Entry, LedgerTransaction]):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ["account", "minutes"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "circle", "kind", "memo", "member", "created_at"]
    list_filter = ["circle", "kind"]
    inlines = [EntryInline]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "circle", "kind", "member", "balance"]
    list_filter = ["circle", "kind"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "circle", "member", "reference", "minutes", "status"]
    list_filter = ["circle", "status"]


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    """Decided only through its service, by a second coordinator (four eyes)."""

    list_display = ["id", "circle", "kind", "member", "minutes", "status", "asked_by", "decided_by"]
    list_filter = ["circle", "kind", "status"]
