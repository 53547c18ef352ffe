from __future__ import annotations

from django.contrib import admin

from circle.models import Category, Circle


class CategoryInline(admin.TabularInline[Category, Circle]):
    model = Category
    extra = 0


@admin.register(Circle)
class CircleAdmin(admin.ModelAdmin[Circle]):
    list_display = ["slug", "name", "centre_postcode", "radius_km", "membership_fee", "token_price"]
    search_fields = ["slug", "name"]
    inlines = [CategoryInline]
