from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from circle import apis as circle_apis
from circle.errors import json_not_found
from helpers import apis as helper_apis
from members import apis as member_apis
from members.admin import TwoFactorAdminSite
from payments import apis as payment_apis
from tokens import apis as token_apis

# The admin behind staff two-factor, as django-otp installs its OTPAdminSite.
admin.site.__class__ = TwoFactorAdminSite

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
    path(
        "members/<int:member_id>/export/",
        member_apis.MemberExportApi.as_view(),
        name="member-export",
    ),
    path(
        "members/<int:member_id>/two-factor/reset/",
        member_apis.TwoFactorResetApi.as_view(),
        name="member-two-factor-reset",
    ),
    path(
        "members/<int:member_id>/erase/", member_apis.MemberEraseApi.as_view(), name="member-erase"
    ),
    path(
        "members/<int:member_id>/trusted-persons/",
        member_apis.TrustedPersonsApi.as_view(),
        name="member-trusted-persons",
    ),
    path(
        "trusted-persons/<int:trusted_id>/",
        member_apis.TrustedPersonApi.as_view(),
        name="trusted-person",
    ),
    path("helpers/<int:helper_id>/", helper_apis.HelperDetailApi.as_view(), name="helper-detail"),
    path(
        "helpers/<int:helper_id>/vetting/",
        helper_apis.HelperVettingApi.as_view(),
        name="helper-vetting",
    ),
    # The token ledger.
    path(
        "members/<int:member_id>/tokens/",
        token_apis.MemberTokensApi.as_view(),
        name="member-tokens",
    ),
    path(
        "members/<int:member_id>/statement/",
        token_apis.MemberStatementApi.as_view(),
        name="member-statement",
    ),
    path("transfers/", token_apis.TransferApi.as_view(), name="transfers"),
    path(
        "circles/<slug:slug>/ledger/transactions/",
        token_apis.LedgerTransactionsApi.as_view(),
        name="ledger-transactions",
    ),
    path(
        "circles/<slug:slug>/ledger/balances/",
        token_apis.LedgerBalancesApi.as_view(),
        name="ledger-balances",
    ),
    path(
        "circles/<slug:slug>/ledger/adjustments/",
        token_apis.LedgerAdjustmentsApi.as_view(),
        name="ledger-adjustments",
    ),
    path(
        "circles/<slug:slug>/ledger/grants/",
        token_apis.LedgerGrantsApi.as_view(),
        name="ledger-grants",
    ),
    path(
        "circles/<slug:slug>/ledger/audit/",
        token_apis.LedgerAuditApi.as_view(),
        name="ledger-audit",
    ),
    path(
        "circles/<slug:slug>/ledger/approvals/",
        token_apis.ApprovalsApi.as_view(),
        name="ledger-approvals",
    ),
    path(
        "ledger/approvals/<int:approval_id>/approve/",
        token_apis.ApprovalApproveApi.as_view(),
        name="approval-approve",
    ),
    path(
        "ledger/approvals/<int:approval_id>/refuse/",
        token_apis.ApprovalRefuseApi.as_view(),
        name="approval-refuse",
    ),
    path(
        "ledger/transactions/<int:transaction_id>/reverse/",
        token_apis.TransactionReverseApi.as_view(),
        name="transaction-reverse",
    ),
    # Money in.
    path(
        "members/<int:member_id>/payments/",
        payment_apis.MemberPaymentsApi.as_view(),
        name="member-payments",
    ),
    path(
        "members/<int:member_id>/payments/offline/",
        payment_apis.OfflinePaymentApi.as_view(),
        name="member-payments-offline",
    ),
    # Tasks and matching.
    path("", include("matching.urls")),
    # Card payments and refunds.
    path("", include("payments.urls")),
    # Text messages' delivery receipts, from Twilio and GOV.UK Notify.
    path("", include("messaging.urls")),
    # The circle's attention queue (the operators' follow-ups).
    path("", include("attention.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Session login for the browsable API and docs (django-axes limits these attempts too).
    path("auth/session/", include("rest_framework.urls")),
]

urlpatterns = [
    path("healthz", circle_apis.healthz, name="healthz"),
    path("readyz", circle_apis.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Anything else under /api/ answers in the API's error format, not Django's HTML page.
    re_path(r"^api/", json_not_found),
    # The pages people use; last, so the API's and the admin's addresses come first.
    path("", include("web.urls")),
]

# The pages answer in their own style; anything under /api/ keeps the API's JSON errors.
handler400 = "web.views.errors.bad_request"
handler403 = "web.views.errors.forbidden"
handler404 = "web.views.errors.not_found"
handler500 = "web.views.errors.server_error"
