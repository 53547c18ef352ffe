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
from django.utils.translation import gettext_lazy as _

from circle.models import Circle
from members.models import Member


class ItemKind(models.TextChoices):
    """What an item is about, in the words the person working the queue reads."""

    RENEWAL_REMINDER = "renewal_reminder", _("Membership due for renewal (no email)")
    RENEWAL_FAILED = "renewal_failed", _("Card renewal failed")
    GRACE = "grace", _("Membership ended, not yet renewed")
    LAPSED = "lapsed", _("Membership lapsed")
    REFUND_SHORTFALL = "refund_shortfall", _("Card refund needs a person")
    APPROVAL_PENDING = "approval_pending", _("Waiting for a second coordinator")
    SMS_UNDELIVERED = "sms_undelivered", _("Text message not delivered")
    TASK_UNACCEPTED = "task_unaccepted", _("Nobody took their request")
    SAFEGUARDING = "safeguarding", _("Safeguarding concern")
    TASK_NO_HELPER = "task_no_helper", _("Request soon, no helper yet")
    TASK_UNCONFIRMED = "task_unconfirmed", _("Done but not confirmed")
    GRACE_ENDING = "grace_ending", _("Grace ends within a week")
    LAPSED_TOKENS = "lapsed_tokens", _("Lapsed with tokens left")
    CHECKS_DUE = "checks_due", _("Helper's DBS check due for renewal")
    LOW_RATING = "low_rating", _("Low rating (1 or 2)")
    RETENTION_DUE = "retention_due", _("Data due for erasure (lapsed for years)")


# Kinds that go to the top of a queue whatever their age: a safeguarding concern is never
# behind a renewal.
URGENT_KINDS: tuple[str, ...] = (ItemKind.SAFEGUARDING,)


# Who works which kinds. Operators phone members: renewals (and grace running out), refunds,
# texts that did not arrive, requests nobody took (the console's follow-ups). Coordinators
# decide what needs judgement or a second pair of eyes (their desk takes the rest):
# safeguarding, a request about to go unhelped, work nobody confirmed, a lapsed member's
# tokens, helpers' checks falling due, low ratings, approvals. Every kind belongs to exactly
# one of the two.
OPERATOR_KINDS: tuple[str, ...] = (
    ItemKind.RENEWAL_REMINDER,
    ItemKind.RENEWAL_FAILED,
    ItemKind.GRACE,
    ItemKind.GRACE_ENDING,
    ItemKind.LAPSED,
    ItemKind.REFUND_SHORTFALL,
    ItemKind.SMS_UNDELIVERED,
    ItemKind.TASK_UNACCEPTED,
)
COORDINATOR_KINDS: tuple[str, ...] = tuple(
    sorted(
        (kind for kind in ItemKind.values if kind not in OPERATOR_KINDS),
        key=lambda kind: kind not in URGENT_KINDS,
    )
)


class Item(models.Model):
    """A line in the circle's queue: someone to phone, or something to look at.

    Invariants: one item of a kind per cause (a job and a webhook may both try to raise the one
    for a membership period; the database keeps the second out); an item is claimed by someone
    at a time, or by nobody (`claimed_by` and `claimed_at` set or empty together).
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
    # Who is dealing with it ("I'll ring them"), so two operators do not both ring. Taken with
    # a conditional UPDATE (attention.services.item_claim); kept after it is done, as history.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Who gave it to `claimed_by` when a coordinator assigned it to a named member of staff;
    # empty when they took it themselves.
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

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
            models.CheckConstraint(
                condition=models.Q(claimed_by__isnull=True, claimed_at__isnull=True)
                | models.Q(claimed_by__isnull=False, claimed_at__isnull=False),
                name="attention_item_claimed_together",
            ),
        ]
        indexes = [models.Index(fields=["circle", "done_at"], name="attention_item_open")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.member_id}"


class Note(models.Model):
    """One note on an item, by whom and when ("Rang at 10am, no answer; try after lunch").

    A thread of rows rather than one field appended to: two operators writing at once both
    keep their words (no read-modify-write to lose one), and each note names its author and
    time without parsing. Notes are never edited: a correction is another note.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="attention_note_not_blank"),
        ]

    def __str__(self) -> str:
        return f"note on {self.item_id}"


class Concern(models.Model):
    """A safeguarding concern: someone is worried about a member or a helper (and maybe a
    task). Its words are for the circle's coordinators only: an operator sees that the queue
    holds a concern, never what it says; the person it is about never sees it; whoever raised
    it sees that it was received and when it was closed. Every reading by a coordinator is
    logged (`ConcernReading`).

    Invariants: about a member or a helper's member record (or both); a referral has a date
    whenever it has a reference; closed with an outcome (`closed_at` and `outcome` together).
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    # The person it is about, as a member record; a helper is named by their member record.
    about_member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    about_helper = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The task it is about, if any: a reference, not a foreign key (matching is above us).
    task_id = models.PositiveBigIntegerField(null=True, blank=True)
    what_happened = models.TextField()
    happened_on = models.DateField(null=True, blank=True)
    danger_now = models.BooleanField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    referred_on = models.DateField(null=True, blank=True)
    referral_reference = models.CharField(max_length=100, blank=True)
    outcome = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(about_member__isnull=False)
                | models.Q(about_helper__isnull=False),
                name="attention_concern_about_someone",
            ),
            models.CheckConstraint(
                condition=~models.Q(what_happened=""), name="attention_concern_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(referral_reference="") | models.Q(referred_on__isnull=False),
                name="attention_concern_referral_dated",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True, outcome="")
                | (models.Q(closed_at__isnull=False) & ~models.Q(outcome="")),
                name="attention_concern_closed_with_outcome",
            ),
        ]
        indexes = [models.Index(fields=["circle", "closed_at"], name="attention_concern_open")]

    def __str__(self) -> str:
        return f"concern {self.pk}"


class ConcernNote(models.Model):
    """A coordinator's note on a concern (who they rang, what was done). Never edited."""

    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text=""), name="attention_concern_note_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"note on concern {self.concern_id}"


class ConcernReading(models.Model):
    """Who read a concern, and when: one row for every reading by a coordinator."""

    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="readings")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-read_at", "-id"]

    def __str__(self) -> str:
        return f"reading of concern {self.concern_id}"
