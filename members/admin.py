from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from members.models import AuditEvent, Member, Role, User


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    ordering = ["email"]
    list_display = ["email", "phone", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "phone", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "phone", "password", "full_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    filter_horizontal = ()
    list_filter = ["is_active", "is_staff"]


class RoleInline(admin.TabularInline[Role, Member]):
    model = Role
    extra = 0
    readonly_fields = ["role", "granted_at"]
    can_delete = False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    list_display = ["full_name", "circle", "postcode", "phone", "membership_status"]
    list_filter = ["circle", "membership_status"]
    search_fields = ["full_name", "phone", "postcode", "email"]
    inlines = [RoleInline]
    # Changes to people go through the services (which audit them); the admin only reads.
    readonly_fields = [f.name for f in Member._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["created_at", "circle", "action", "actor", "member"]
    list_filter = ["circle", "action"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
