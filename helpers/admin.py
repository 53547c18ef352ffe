from __future__ import annotations

from django.contrib import admin

from helpers.models import Helper, VettingCheck


@admin.register(Helper)
class HelperAdmin(admin.ModelAdmin[Helper]):
    list_display = ["member", "circle", "kind", "vetting_level", "suspended"]
    list_filter = ["circle", "kind", "vetting_level", "suspended"]
    # Vetting and suspension are recorded through the API so each writes its audit row.
    readonly_fields = [f.name for f in Helper._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(VettingCheck)
class VettingCheckAdmin(admin.ModelAdmin[VettingCheck]):
    list_display = ["helper", "dbs_level", "resulting_level", "recorded_by", "recorded_at"]
    readonly_fields = [f.name for f in VettingCheck._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
