"""Writes for money in: payments by hand (offline), card payments through Stripe Checkout
(checkout, card), refunds, and the membership years they buy (membership)."""

from __future__ import annotations

from payments.services.card import (
    checkout_session_apply,
    invoice_apply,
    invoice_failed_apply,
    subscription_apply,
)
from payments.services.checkout import membership_checkout_create, tokens_checkout_create
from payments.services.events import stripe_event_receive, stripe_reconcile
from payments.services.membership import (
    membership_period_add,
    membership_reminders_send,
    membership_statuses_advance,
    one_year_from,
)
from payments.services.offline import MAX_TOKENS_PER_PAYMENT, offline_payment_record
from payments.services.refunds import charge_refunded_apply, token_refund_create

__all__ = [
    "MAX_TOKENS_PER_PAYMENT",
    "charge_refunded_apply",
    "checkout_session_apply",
    "invoice_apply",
    "invoice_failed_apply",
    "membership_checkout_create",
    "membership_period_add",
    "membership_reminders_send",
    "membership_statuses_advance",
    "offline_payment_record",
    "one_year_from",
    "stripe_event_receive",
    "stripe_reconcile",
    "subscription_apply",
    "token_refund_create",
    "tokens_checkout_create",
]
