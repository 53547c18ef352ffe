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
    reference = models.CharField(max_length=100)
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

    Invariants: it starts on or before it ends; one period per payment.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="membership_periods")
    start = models.DateField()
    end = models.DateField()
    amount = MoneyField(max_digits=8, decimal_places=2, default_currency="GBP")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="period")
    created_at = models.DateTimeField(default=timezone.now)

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
