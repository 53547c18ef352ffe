from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model

from payments.models import (
    CheckoutSession,
    MembershipPeriod,
    Payment,
    Refund,
    StripeCustomer,
    StripeEvent,
    StripeSubscription,
)


class ReadOnlyAdmin(admin.ModelAdmin[Model]):
    """Money rows are written through the API and the webhook, which credit tokens and audit;
    here they are read."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
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
    search_fields = ["reference", "stripe_payment_intent_id", "member__full_name"]


@admin.register(MembershipPeriod)
class MembershipPeriodAdmin(ReadOnlyAdmin):
    list_display = ["member", "circle", "start", "end", "amount", "reminder_sent_at"]
    list_filter = ["circle"]


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "circle", "member", "purpose", "tokens", "status", "stripe_session_id"]
    list_filter = ["circle", "purpose", "status"]
    search_fields = ["stripe_session_id", "member__full_name"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at", "deliveries", "processed_at", "outcome"]
    list_filter = ["type"]
    search_fields = ["event_id"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["id", "circle", "payment", "tokens", "amount", "status", "source"]
    list_filter = ["circle", "status", "source"]


@admin.register(StripeSubscription)
class StripeSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["stripe_subscription_id", "member", "status", "cancel_at_period_end"]


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["stripe_customer_id", "member", "created_at"]
