from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from circle.models import Category, Circle, VettingLevel
from members.models import Member


class HelperKind(models.TextChoices):
    VOLUNTEER = "volunteer", "Volunteer (earns tokens)"
    PAID = "paid", "Paid helper"


class Helper(models.Model):
    """A member's helper profile in their circle: what they can do, where and when.

    `vetting_level` is derived from the latest VettingCheck and stored here, changed only by
    `helper_vetting_record` in the same transaction as the check, so matching can filter on it.
    Invariants: one profile per member; a positive travel radius; a reason whenever suspended;
    a paused helper has the time they paused.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="helpers")
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="helper")
    kind = models.CharField(max_length=10, choices=HelperKind.choices)
    # Where the helper travels from (their area's centre); usually, not always, their home.
    postcode = models.CharField(max_length=8)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    travel_radius_km = models.DecimalField(max_digits=4, decimal_places=1)
    skills = models.ManyToManyField(Category, through="HelperSkill", related_name="helpers")
    vetting_level = models.CharField(
        max_length=10, choices=VettingLevel.choices, default=VettingLevel.NONE
    )
    suspended = models.BooleanField(default=False)
    suspended_reason = models.CharField(max_length=500, blank=True)
    # The helper's own "I'm not taking tasks for now": unlike a suspension (a coordinator's,
    # with a reason), they set and clear it themselves; matching offers them nothing meanwhile.
    paused = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(travel_radius_km__gt=0),
                name="helpers_helper_travel_radius_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=HelperKind.values), name="helpers_helper_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(vetting_level__in=VettingLevel.values),
                name="helpers_helper_vetting_level_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(suspended=False) | ~models.Q(suspended_reason=""),
                name="helpers_helper_suspension_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(paused=False) | models.Q(paused_at__isnull=False),
                name="helpers_helper_pause_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Helper {self.member.full_name}"


class HelperSkill(models.Model):
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="+")
    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="skill_rows")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["helper", "category"], name="helpers_skill_unique"),
        ]
        indexes = [
            # Matching starts from a category's skill rows and joins their helpers by id: a
            # skill almost nobody has then costs a handful of index entries, not a scan of the
            # circle's helpers (an index-only scan, as it holds both columns).
            models.Index(fields=["category", "helper"], name="helpers_skill_category_helper"),
        ]

    def __str__(self) -> str:
        return f"{self.helper_id}:{self.category_id}"


class AvailabilitySlot(models.Model):
    """A weekly window when the helper can help (Monday is 0). No slots: any time."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="+")
    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField()
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6),
                name="helpers_availability_weekday_range",
            ),
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")),
                name="helpers_availability_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class DbsLevel(models.TextChoices):
    NONE = "none", "None"
    BASIC = "basic", "Basic DBS"
    ENHANCED = "enhanced", "Enhanced DBS"


class VettingCheck(models.Model):
    """What a coordinator checked, append-only. We record that a DBS certificate was seen, its
    number, date and level, and who saw the original: never the certificate's contents.
    Invariant: a DBS check names its certificate number, issue date and who saw the original,
    but for the number once erased with the helper's data (`certificate_erased_at`)."""

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="vetting_checks")
    identity_checked = models.BooleanField()
    references_checked = models.BooleanField()
    dbs_level = models.CharField(max_length=10, choices=DbsLevel.choices)
    dbs_certificate_number = models.CharField(max_length=12, blank=True)
    dbs_issue_date = models.DateField(null=True, blank=True)
    original_seen_by = models.CharField(max_length=150, blank=True)
    # When the certificate number was wiped, the helper's data being erased (helpers/erase.py
    # says what a check keeps then, and why).
    certificate_erased_at = models.DateTimeField(null=True, blank=True)
    resulting_level = models.CharField(max_length=10, choices=VettingLevel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(dbs_level="none")
                | (
                    (
                        ~models.Q(dbs_certificate_number="")
                        | models.Q(certificate_erased_at__isnull=False)
                    )
                    & models.Q(dbs_issue_date__isnull=False)
                    & ~models.Q(original_seen_by="")
                ),
                name="helpers_vettingcheck_dbs_details_present",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.helper_id} {self.resulting_level} {self.recorded_at:%Y-%m-%d}"
