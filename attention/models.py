"""The circle's one queue of what needs a person: someone to phone, something to look at.

Every app raises items here through `attention.services`; this app knows only circles and
members. An item names the member it is about (a helper is a member too) and, as plain
references, what caused it (`cause`, e.g. "membership_period:12") and, when there is one, the
task (`task_id`, not a foreign key: matching sits above this app).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from circle.models import Circle
from members.models import Member


class ItemKind(models.TextChoices):
    RENEWAL_REMINDER = "renewal_reminder", "Renewal due soon (member has no email)"
    RENEWAL_FAILED = "renewal_failed", "Card renewal failed"
    GRACE = "grace", "Membership ended; in grace"
    LAPSED = "lapsed", "Membership lapsed"
    REFUND_SHORTFALL = "refund_shortfall", "Refunded by card but tokens already spent"
    APPROVAL_PENDING = "approval_pending", "Adjustment or grant waiting for a second coordinator"
    SMS_UNDELIVERED = "sms_undelivered", "A text message could not be delivered"


class Item(models.Model):
    """A line in the circle's queue: someone to phone, or something to look at.

    Invariant: one item of a kind per cause (a job and a webhook may both try to raise the one
    for a membership period; the database keeps the second out).
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="attention_items")
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    # What raised it, named by the app that raised it ("membership_period:12", "refund:3");
    # blank when an item may be raised more than once.
    cause = models.CharField(max_length=100, blank=True)
    # The task it is about, if any: a reference, not a foreign key (matching is above us).
    task_id = models.PositiveBigIntegerField(null=True, blank=True)
    # The number to ring, as it was when raised (an operator works from this list).
    phone = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "cause"],
                condition=~models.Q(cause=""),
                name="attention_item_once_per_cause",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ItemKind.values), name="attention_item_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["circle", "done_at"], name="attention_item_open")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.member_id}"
