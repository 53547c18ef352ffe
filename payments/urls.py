from __future__ import annotations

from django.urls import URLPattern, path

from payments import apis

urlpatterns: list[URLPattern] = [
    path(
        "members/<int:member_id>/membership/checkout/",
        apis.MembershipCheckoutApi.as_view(),
        name="member-membership-checkout",
    ),
    path(
        "members/<int:member_id>/tokens/checkout/",
        apis.TokensCheckoutApi.as_view(),
        name="member-tokens-checkout",
    ),
    path(
        "members/<int:member_id>/gift-link/",
        apis.GiftLinkApi.as_view(),
        name="member-gift-link",
    ),
    path("payments/stripe/webhook/", apis.StripeWebhookApi.as_view(), name="stripe-webhook"),
    path("payments/<int:payment_id>/refund/", apis.PaymentRefundApi.as_view(), name="refund"),
]
