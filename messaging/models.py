"""The record of every text message sent to a member, and what became of it.

A row is written once the provider has answered: `sent` with the provider's id, or `failed`
when it refused or could not be reached. The provider's delivery receipts then move a `sent`
message to `delivered` or `failed`; those two are final, so a late or repeated receipt changes
nothing (`UPDATE ... WHERE status = 'sent'`).

This app sits beside `tokens` and `helpers`: it names members and raises attention items, and
`matching` (and any app above) sends through it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from circle.models import Circle
from members.models import Member


class SmsStatus(models.TextChoices):
    SENT = "sent", "Sent (the provider took it)"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Not delivered"


class Sms(models.Model):
    """One text message to a member.

    Invariants (database constraints): a provider's id names one message; `delivered_at` is set
    exactly when the status is delivered, `failed_at` exactly when it is failed.
    """

    # Indexed with the member and time (`messaging_sms_member` below), which serves every
    # lookup by circle.
    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="sms")
    # The number it went to, as it was then (the member may change theirs later).
    to = models.CharField(max_length=20)
    body = models.TextField()
    # "twilio", "notify", or the laptop's "console" and "locmem".
    provider = models.CharField(max_length=20)
    # Twilio's Message SID or Notify's notification id; blank when the send failed outright.
    provider_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=SmsStatus.choices, default=SmsStatus.SENT)
    # The provider's own word for the latest status ("undelivered", "permanent-failure"...).
    provider_status = models.CharField(max_length=30, blank=True)
    # Why it failed, as the provider put it (Twilio's error code, Notify's message).
    error = models.CharField(max_length=300, blank=True)
    # What the message was about, named by the app that sent it ("task_accepted:17:4:..."),
    # and its task if any (a reference, not a foreign key: matching sits above this app).
    reference = models.CharField(max_length=100, blank=True)
    task_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Whether an operator should phone the member if it is not delivered. Offers to helpers
    # are not followed up: the next wave of offers does that.
    follow_up = models.BooleanField(default=True)
    sent_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = "text message"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_id"],
                condition=~models.Q(provider_id=""),
                name="messaging_sms_provider_id_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SmsStatus.values), name="messaging_sms_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=SmsStatus.DELIVERED, delivered_at__isnull=False)
                | (~models.Q(status=SmsStatus.DELIVERED) & models.Q(delivered_at__isnull=True)),
                name="messaging_sms_delivered_at_iff_delivered",
            ),
            models.CheckConstraint(
                condition=models.Q(status=SmsStatus.FAILED, failed_at__isnull=False)
                | (~models.Q(status=SmsStatus.FAILED) & models.Q(failed_at__isnull=True)),
                name="messaging_sms_failed_at_iff_failed",
            ),
        ]
        indexes = [
            models.Index(fields=["circle", "member", "sent_at"], name="messaging_sms_member")
        ]

    def __str__(self) -> str:
        sent = f"{self.provider} {self.provider_id or '-'}"
        return f"{sent} to member {self.member_id}: {self.status}"
