from __future__ import annotations

from typing import Any

from django.contrib import admin

from payments.models import MembershipPeriod, Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin[Payment]):
    list_display = [
        "id",
        "circle",
        "member",
        "purpose",
        "method",
        "amount",
        "reference",
        "created_at",
    ]
    list_filter = ["circle", "purpose", "method"]
    search_fields = ["reference", "member__full_name"]

    # Payments are recorded through the API, which credits tokens and audits; here they are read.
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(MembershipPeriod)
class MembershipPeriodAdmin(admin.ModelAdmin[MembershipPeriod]):
    list_display = ["member", "circle", "start", "end", "amount"]
    list_filter = ["circle"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
