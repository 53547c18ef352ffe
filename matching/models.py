"""Tasks, the helpers told of them, members' likes and dislikes of helpers, and weekly series.

A task's life: `open` (booked, the estimate held in escrow) → `accepted` (one helper has it) →
`completed` (the helper reported the minutes) → `settled` (confirmed; the ledger moved the
tokens). `cancelled` and `expired` release the hold. Only services in `matching/services.py`
change these rows, each change audited in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from circle.models import Category, Circle
from helpers.models import Helper
from members.models import Member
from tokens.models import Hold


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open: waiting for a helper"
    ACCEPTED = "accepted", "Accepted by a helper"
    COMPLETED = "completed", "Done; waiting for the member's confirmation"
    SETTLED = "settled", "Confirmed and paid"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired: nobody took it in time"


# States in which the task has its helper (and the helper sees the address).
WITH_HELPER = (TaskStatus.ACCEPTED, TaskStatus.COMPLETED, TaskStatus.SETTLED)
# States a task never leaves.
FINAL = (TaskStatus.SETTLED, TaskStatus.CANCELLED, TaskStatus.EXPIRED)


class RecurrenceInterval(models.IntegerChoices):
    WEEKLY = 1, "Every week"
    FORTNIGHTLY = 2, "Every fortnight"


class TaskSeries(models.Model):
    """Help a member asked for again and again ("every Tuesday 10-12, gardening").

    Each occurrence is its own Task with its own hold, booked ahead by a periodic job. Times are
    wall-clock times in the circle's time zone (Europe/London), so "10:00" stays 10:00 across
    the change to and from summer time. `last_helper` is the helper of the latest occurrence
    that someone accepted; the next occurrence is offered to them first.
    Invariants: starts before it ends (same day); a positive estimate; weekly or fortnightly.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="task_series")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    details = models.TextField(blank=True)
    # The first occurrence's date; later ones fall every `interval_weeks` weeks after it.
    first_date = models.DateField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    estimated_minutes = models.PositiveIntegerField()
    interval_weeks = models.PositiveSmallIntegerField(choices=RecurrenceInterval.choices)
    active = models.BooleanField(default=True)
    last_helper = models.ForeignKey(
        Helper, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="matching_taskseries_start_before_end",
            ),
            models.CheckConstraint(
                condition=models.Q(estimated_minutes__gt=0),
                name="matching_taskseries_estimate_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(interval_weeks__in=RecurrenceInterval.values),
                name="matching_taskseries_interval_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["circle"], condition=models.Q(active=True), name="matching_series_active"
            ),
        ]

    def __str__(self) -> str:
        return f"series {self.pk}: {self.title}"


class Task(models.Model):
    """One request for help, booked for a member, with its estimate held in escrow.

    The member's home is copied onto the task when it is booked (`latitude`, `longitude`,
    `postcode_district`), so matching and the helpers' feed read one table, and a task keeps the
    place it was booked for. The address itself is read from the member, and shown only to the
    accepted helper, the member and staff.
    Invariants: the window starts before it ends; a positive estimate; a helper exactly while
    accepted, completed or settled; reported minutes once completed; one occurrence of a
    series per start time.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    # Indexed with the window's start (`matching_task_member` below), which serves every lookup
    # by member: a second index of the column alone only cost every booking an index entry.
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="tasks", db_index=False
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    details = models.TextField(blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    estimated_minutes = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    postcode_district = models.CharField(max_length=4)
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="task")
    # Likewise with the time accepted (`matching_task_helper`), for every acceptance.
    helper = models.ForeignKey(
        Helper,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        db_index=False,
    )
    series = models.ForeignKey(
        TaskSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    # What the helper reported, and what was billed: rounded up to the circle's increment.
    minutes_reported = models.PositiveIntegerField(null=True, blank=True)
    minutes_billed = models.PositiveIntegerField(null=True, blank=True)
    # What the ledger moved to the helper on settling: the billed minutes, or less when the
    # member could not pay the overrun (never a negative wallet); `minutes_billed -
    # minutes_settled` is what went unpaid, and the API says so.
    minutes_settled = models.PositiveIntegerField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When it was settled, cancelled or expired.
    closed_at = models.DateTimeField(null=True, blank=True)
    # Notification waves sent so far, and when the next one is due if nobody accepts.
    offer_wave = models.PositiveSmallIntegerField(default=0)
    next_offer_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["window_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__lt=models.F("window_end")),
                name="matching_task_window_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(estimated_minutes__gt=0),
                name="matching_task_estimate_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TaskStatus.values),
                name="matching_task_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=WITH_HELPER, helper__isnull=False)
                | (~models.Q(status__in=WITH_HELPER) & models.Q(helper__isnull=True)),
                name="matching_task_helper_while_taken",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=(TaskStatus.COMPLETED, TaskStatus.SETTLED))
                | models.Q(minutes_reported__isnull=False, minutes_billed__isnull=False),
                name="matching_task_completed_has_minutes",
            ),
            models.UniqueConstraint(
                fields=["series", "window_start"],
                condition=models.Q(series__isnull=False),
                name="matching_task_one_occurrence",
            ),
        ]
        indexes = [
            # The feed and matching: a circle's open tasks of a category.
            models.Index(
                fields=["circle", "category"],
                condition=models.Q(status="open"),
                name="matching_task_open",
            ),
            models.Index(fields=["member", "-window_start"], name="matching_task_member"),
            models.Index(fields=["helper", "-accepted_at"], name="matching_task_helper"),
            # The expiry and re-offer jobs.
            models.Index(
                fields=["window_end"],
                condition=models.Q(status="open"),
                name="matching_task_open_end",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.pk}: {self.title} ({self.status})"


class PreferenceKind(models.TextChoices):
    PREFERRED = "preferred", "Preferred helper"
    BLOCKED = "blocked", "Blocked: never offer this member's tasks to them"


class HelperPreference(models.Model):
    """A member's word about one helper: preferred (offered first) or blocked (never offered).

    Invariants: one word per member and helper; at most one preferred helper per member.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="helper_preferences")
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="preferences")
    kind = models.CharField(max_length=10, choices=PreferenceKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "helper"], name="matching_helperpreference_unique"
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(kind="preferred"),
                name="matching_helperpreference_one_preferred",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=PreferenceKind.values),
                name="matching_helperpreference_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.helper_id}"


class NoticeKind(models.TextChoices):
    TASK_OFFERED = "task_offered", "A helper is told of a new task"
    TASK_ACCEPTED = "task_accepted", "The member is told a helper accepted"
    TASK_COMPLETED = "task_completed", "The member is told the task is done"
    TASK_CANCELLED = "task_cancelled", "The helper is told their task was cancelled"
    TASK_EXPIRED = "task_expired", "The member is told nobody was free and the tokens are back"


class Notice(models.Model):
    """One message for one event to one person, written before it is sent.

    The unique `key` (e.g. "task_offered:17:helper:4") is what makes sending idempotent: a
    Celery task claims the row with a conditional update of `sent_at` and only the claimer
    sends, so a retried or duplicated job never sends twice.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    key = models.CharField(max_length=120, unique=True)
    # Indexed with the kind (`matching_notice_task` below), which serves every lookup by task.
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="notices", db_index=False)
    recipient = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    # Which wave of offers it belonged to (offers only).
    wave = models.PositiveSmallIntegerField(default=0)
    channels = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["task", "kind"], name="matching_notice_task"),
            # The outbox sweep's question, "unsent and old enough", over the few unsent rows.
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="matching_notice_unsent",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Feedback(models.Model):
    """What the member (or staff for them) said on confirming a task. Coordinators only."""

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="feedback")
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="feedback")
    # 1 (poor) to 5 (excellent), when given.
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="matching_feedback_rating_range",
            ),
        ]
        indexes = [
            # The coordinators' feedback page pages by (created_at, id), newest first: over the
            # circle's rows, one helper's, or the circle's low ratings alone (a few of many).
            models.Index(
                fields=["circle", "-created_at", "-id"], name="matching_feedback_circle_time"
            ),
            models.Index(
                fields=["helper", "-created_at", "-id"], name="matching_feedback_helper_time"
            ),
            models.Index(
                fields=["circle", "-created_at", "-id"],
                condition=models.Q(rating__lte=2),
                name="matching_feedback_low_time",
            ),
        ]

    def __str__(self) -> str:
        return f"feedback on {self.task_id}"
