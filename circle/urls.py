from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from circle import apis as circle_apis
from circle.errors import json_not_found
from helpers import apis as helper_apis
from members import apis as member_apis

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", member_apis.AuthTokenApi.as_view(), name="auth-token"),
    path("me/", member_apis.MeApi.as_view(), name="me"),
    path("circles/", circle_apis.CircleListApi.as_view(), name="circle-list"),
    path("circles/<slug:slug>/", circle_apis.CircleDetailApi.as_view(), name="circle-detail"),
    path(
        "circles/<slug:slug>/members/",
        member_apis.CircleMembersApi.as_view(),
        name="circle-members",
    ),
    path(
        "circles/<slug:slug>/helpers/",
        helper_apis.CircleHelpersApi.as_view(),
        name="circle-helpers",
    ),
    path("circles/<slug:slug>/audit/", member_apis.CircleAuditApi.as_view(), name="circle-audit"),
    path("members/<int:member_id>/", member_apis.MemberDetailApi.as_view(), name="member-detail"),
    path(
        "members/<int:member_id>/audit/", member_apis.MemberAuditApi.as_view(), name="member-audit"
    ),
    path("helpers/<int:helper_id>/", helper_apis.HelperDetailApi.as_view(), name="helper-detail"),
    path(
        "helpers/<int:helper_id>/vetting/",
        helper_apis.HelperVettingApi.as_view(),
        name="helper-vetting",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Session login for the browsable API and docs (django-axes limits these attempts too).
    path("auth/session/", include("rest_framework.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/api/v1/docs/", permanent=False)),
    path("healthz", circle_apis.healthz, name="healthz"),
    path("readyz", circle_apis.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Anything else under /api/ answers in the API's error format, not Django's HTML page.
    re_path(r"^api/", json_not_found),
]

handler500 = "circle.errors.json_server_error"
