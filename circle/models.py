from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from djmoney.models.fields import MoneyField
from djmoney.money import Money


class VettingLevel(models.TextChoices):
    """Lowest first; a helper may do a category whose level is at or below their own."""

    NONE = "none", "None"
    BASIC = "basic", "Basic"
    ENHANCED = "enhanced", "Enhanced"

    @classmethod
    def rank(cls, level: str) -> int:
        # Matching asks this for every candidate helper: a table, not a walk over the enum.
        try:
            return _VETTING_RANKS[level]
        except KeyError:
            raise ValueError(f"{level!r} is not a vetting level") from None


_VETTING_RANKS: dict[str, int] = {choice.value: i for i, choice in enumerate(VettingLevel)}


class Circle(models.Model):
    """The tenant: every other row of the domain belongs to exactly one circle.

    Invariants (database constraints): positive radius, token minutes and billing increment;
    a minimum age between 18 and 120; fees and prices not negative.
    """

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    centre_postcode = models.CharField(max_length=8)
    # Sector centroid of the centre postcode (WGS84), from the shipped table.
    centre_latitude = models.DecimalField(max_digits=8, decimal_places=5)
    centre_longitude = models.DecimalField(max_digits=8, decimal_places=5)
    radius_km = models.DecimalField(
        max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))]
    )
    min_age = models.PositiveSmallIntegerField(default=50)
    membership_fee = MoneyField(
        max_digits=8, decimal_places=2, default=Money("10.00", "GBP"), default_currency="GBP"
    )
    token_price = MoneyField(
        max_digits=8, decimal_places=2, default=Money("10.00", "GBP"), default_currency="GBP"
    )
    token_minutes = models.PositiveIntegerField(default=60)
    billing_increment_minutes = models.PositiveIntegerField(default=30)
    # How long the helpers told of a new task have to accept it before the next few are told.
    offer_wave_minutes = models.PositiveIntegerField(default=60)
    # Adjustments and grants larger than this (in minutes) wait for a second coordinator.
    approval_threshold_minutes = models.PositiveIntegerField(default=600)
    # A task still without a helper this many hours before its window needs a coordinator.
    no_helper_warning_hours = models.PositiveIntegerField(default=24)
    # The number members call, as E.164 ("" until set); pages show it as people write it.
    phone = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    # Declared so mypy knows its type; django-money still wraps it to accept Money in filters.
    objects: ClassVar[models.Manager[Circle]] = models.Manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(radius_km__gt=0), name="circle_circle_radius_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(min_age__gte=18, min_age__lte=120),
                name="circle_circle_min_age_range",
            ),
            models.CheckConstraint(
                condition=models.Q(token_minutes__gt=0), name="circle_circle_token_minutes_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(billing_increment_minutes__gt=0),
                name="circle_circle_billing_increment_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(offer_wave_minutes__gt=0),
                name="circle_circle_offer_wave_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(no_helper_warning_hours__gt=0),
                name="circle_circle_no_helper_warning_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(membership_fee__gte=0, token_price__gte=0),
                name="circle_circle_prices_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A kind of task a circle offers, and the vetting a helper needs to do it."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(max_length=50)
    name = models.CharField(max_length=80)
    vetting_level = models.CharField(
        max_length=10, choices=VettingLevel.choices, default=VettingLevel.BASIC
    )

    class Meta:
        ordering = ["circle_id", "slug"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["circle", "slug"], name="circle_category_unique_slug"),
            models.CheckConstraint(
                condition=models.Q(vetting_level__in=VettingLevel.values),
                name="circle_category_vetting_level_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.circle.slug})"


# DESIGN.md's defaults; a coordinator can change them per circle in the admin.
DEFAULT_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("odd-jobs", "Odd jobs", VettingLevel.BASIC),
    ("gardening", "Gardening", VettingLevel.BASIC),
    ("diy", "DIY", VettingLevel.BASIC),
    ("it-help", "IT help", VettingLevel.BASIC),
    ("paperwork", "Paperwork", VettingLevel.BASIC),
    ("companionship", "Companionship", VettingLevel.BASIC),
    # Shopping handles the member's money and lifts put them in a helper's car.
    ("shopping", "Shopping", VettingLevel.ENHANCED),
    ("lifts", "Lifts", VettingLevel.ENHANCED),
)
