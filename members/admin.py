from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from members.models import AuditEvent, Member, Role, User
from members.two_factor import is_verified, two_factor_on, two_factor_required


class TwoFactorAdminSite(admin.AdminSite):
    """The Django admin (installation staff), behind the same second factor as staff pages:
    where STAFF_TWO_FACTOR is required, only a session that gave its code opens it. It has no
    sign-in of its own: Circle's sign-in page, with its code step and django-axes' lock-out,
    is the one way in. Installed as the default site's class (circle/urls.py), as django-otp
    does with its OTPAdminSite."""

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not two_factor_required() or is_verified(request.user)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index")
        if self.has_permission(request):
            return redirect(next_url)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, reverse("web:sign-in"))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        # Signed in with the password alone: the code (or, first, an app to give one).
        assert isinstance(user, User)
        step = "web:sign-in-code" if two_factor_on(user) else "web:two-factor-set-up"
        return redirect(f"{reverse(step)}?{urlencode({'next': next_url})}")


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
