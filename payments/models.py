from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from djmoney.models.fields import MoneyField

from circle.models import Circle
from members.models import Member


class PaymentPurpose(models.TextChoices):
    MEMBERSHIP = "membership", "Membership fee"
    TOKENS = "tokens", "Tokens"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card (Stripe)"


OFFLINE_METHODS = (PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.BANK_TRANSFER)


class Payment(models.Model):
    """Money a member paid, by any method. Written once, when the money is in.

    Invariants: an offline payment's reference (receipt, cheque or bank reference) is used once
    per circle and method; a token payment names how many tokens it bought.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payments")
    purpose = models.CharField(max_length=12, choices=PaymentPurpose.choices)
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    amount = MoneyField(max_digits=8, decimal_places=2, default_currency="GBP")
    tokens = models.PositiveIntegerField(null=True, blank=True)
    # Offline: the receipt, cheque or bank reference. Card: the Stripe object the money came
    # through (a Checkout session for tokens, an invoice for a year), so each counts once.
    reference = models.CharField(max_length=100)
    stripe_payment_intent_id = models.CharField(max_length=100, blank=True, db_index=True)
    checkout = models.ForeignKey(
        "CheckoutSession", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Declared so mypy knows its type (as on Circle); django-money still wraps it.
    objects: ClassVar[models.Manager[Payment]] = models.Manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "method", "reference"], name="payments_payment_unique_reference"
            ),
            models.CheckConstraint(
                condition=models.Q(purpose__in=PaymentPurpose.values),
                name="payments_payment_purpose_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=PaymentMethod.values),
                name="payments_payment_method_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(purpose="tokens") | models.Q(tokens__gt=0),
                name="payments_payment_tokens_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount} ({self.purpose})"


class MembershipPeriod(models.Model):
    """One paid year of membership, stored as paid and never recomputed.

    Invariants: it starts on or before it ends; one period per payment. How it was paid is
    its payment's method and reference (for a card, the Stripe invoice).
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="membership_periods")
    start = models.DateField()
    end = models.DateField()
    amount = MoneyField(max_digits=8, decimal_places=2, default_currency="GBP")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="period")
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Markers set once by conditional updates, so the periodic job never acts twice on a period.
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # The reminder's email claimed for sending (by its queued job or the outbox sweep), so it
    # goes once; unset with `reminder_sent_at` set is an email still to send.
    reminder_emailed_at = models.DateTimeField(null=True, blank=True)
    renewal_failed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[MembershipPeriod]] = models.Manager()

    class Meta:
        ordering = ["-end"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lte=models.F("end")),
                name="payments_membershipperiod_start_before_end",
            ),
        ]
        indexes = [models.Index(fields=["member", "-end"], name="payments_period_member_end")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.start} to {self.end}"


class CheckoutStatus(models.TextChoices):
    CREATED = "created", "Created (Stripe not yet answered)"
    OPEN = "open", "Open on Stripe"
    COMPLETED = "completed", "Paid"
    EXPIRED = "expired", "Expired unpaid"


class CheckoutSession(models.Model):
    """A Stripe Checkout we started for a member. Its id is the idempotency key of the call that
    creates it on Stripe, and every webhook about it is matched to it; a session Stripe tells us
    about that has no row here was not ours and is ignored.

    Invariants: a Stripe session id belongs to one row; a token checkout names its tokens.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="checkouts")
    purpose = models.CharField(max_length=12, choices=PaymentPurpose.choices)
    tokens = models.PositiveIntegerField(null=True, blank=True)
    amount = MoneyField(max_digits=8, decimal_places=2, default_currency="GBP")
    status = models.CharField(
        max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.CREATED
    )
    stripe_session_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    url = models.URLField(max_length=1000, blank=True)
    # A gift (DESIGN.md's `/gift/{token}/`): the giver's name as they gave it (shown to the
    # member on their statement) and, if they asked for one, the address for Stripe's receipt.
    gift_from = models.CharField(max_length=100, blank=True)
    gift_email = models.EmailField(blank=True)
    # When the member was told of the gift (claimed once, by the first delivery that credits it).
    gift_told_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="checkout_session"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[models.Manager[CheckoutSession]] = models.Manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(purpose="tokens") | models.Q(tokens__gt=0),
                name="payments_checkoutsession_tokens_named",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=CheckoutStatus.values),
                name="payments_checkoutsession_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} ({self.purpose}, {self.status})"


class StripeCustomer(models.Model):
    """The Stripe customer who pays for a member (the member, or a family member paying)."""

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="stripe_customer")
    stripe_customer_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stripe_customer_id


class StripeSubscription(models.Model):
    """A member's yearly card subscription, as Stripe last told us about it."""

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subscriptions")
    checkout = models.ForeignKey(
        CheckoutSession, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stripe_subscription_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=30, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_end = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"


class StripeEvent(models.Model):
    """Every webhook event Stripe sent, stored once by its id. Handling is keyed on the payment
    the event is about, not on the event, so this row records what arrived, not what it did."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    deliveries = models.PositiveIntegerField(default=1)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Asked of Stripe"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Refused by Stripe (tokens given back)"


class RefundSource(models.TextChoices):
    COORDINATOR = "coordinator", "A coordinator, through Circle"
    STRIPE = "stripe", "Made in Stripe's dashboard"


class Refund(models.Model):
    """Money given back for a card payment, and the tokens taken back for it.

    The tokens leave the wallet (back to issuance) before Stripe is asked, so they cannot be spent
    meanwhile; if Stripe refuses, they are credited back. Invariants: a Stripe refund is counted
    once (unique id); minutes are never negative.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    tokens = models.PositiveIntegerField(default=0)
    minutes = models.PositiveIntegerField(default=0)
    amount = MoneyField(max_digits=8, decimal_places=2, default_currency="GBP")
    status = models.CharField(max_length=10, choices=RefundStatus.choices)
    source = models.CharField(max_length=12, choices=RefundSource.choices)
    stripe_refund_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[models.Manager[Refund]] = models.Manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RefundStatus.values),
                name="payments_refund_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_refund_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of payment {self.payment_id} ({self.status})"
