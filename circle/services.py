from __future__ import annotations

from decimal import Decimal

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from djmoney.money import Money

from circle.errors import Conflict, InvalidInput
from circle.models import DEFAULT_CATEGORIES, Category, Circle
from circle.selectors import postcode_resolve


def phone_e164(raw: str, *, field: str = "phone") -> str:
    """A UK (or international, with +) phone number as E.164, the one form stored and searched."""
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            "phone_invalid", f"{raw!r} is not a phone number we can call.", field=field
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def circle_create(
    *,
    slug: str,
    name: str,
    postcode: str,
    radius_km: Decimal,
    min_age: int = 50,
    membership_fee: Money | None = None,
    token_price: Money | None = None,
    token_minutes: int = 60,
    billing_increment_minutes: int = 30,
    offer_wave_minutes: int = 60,
    phone: str = "",
) -> Circle:
    """Create a circle with DESIGN.md's default task categories."""
    # Nothing else validates these (no full_clean): a slug with spaces would be stored and then
    # never match the API's <slug:slug> routes.
    try:
        validate_slug(slug)
    except ValidationError:
        raise InvalidInput(
            "slug_invalid",
            f"{slug!r} is not a slug: use lower-case letters, digits and hyphens.",
            field="slug",
        ) from None
    name = name.strip()
    if not name:
        raise InvalidInput("blank", "Please give the circle's name.", field="name")
    centre, point = postcode_resolve(raw=postcode)
    if radius_km <= 0:
        raise InvalidInput("invalid", "The radius must be more than 0 km.", field="radius_km")
    if not 18 <= min_age <= 120:
        raise InvalidInput(
            "invalid", "The minimum age must be between 18 and 120.", field="min_age"
        )
    if token_minutes <= 0 or billing_increment_minutes <= 0:
        raise InvalidInput("invalid", "Token minutes and the billing increment must be positive.")
    if offer_wave_minutes <= 0:
        raise InvalidInput(
            "invalid", "The wait between offers must be positive.", field="offer_wave_minutes"
        )
    phone = phone_e164(phone) if phone.strip() else ""
    # Mirrors the circle_circle_prices_not_negative constraint, for a clear message.
    for field, price in (("membership_fee", membership_fee), ("token_price", token_price)):
        if price is not None and price.amount < 0:
            label = field.replace("_", " ")
            raise InvalidInput("invalid", f"The {label} cannot be negative.", field=field)
    with transaction.atomic():
        if Circle.objects.filter(slug=slug).exists():
            raise Conflict(
                "circle_exists", f"A circle called {slug!r} already exists.", field="slug"
            )
        circle = Circle.objects.create(
            slug=slug,
            name=name,
            centre_postcode=centre,
            centre_latitude=Decimal(str(round(point.latitude, 5))),
            centre_longitude=Decimal(str(round(point.longitude, 5))),
            radius_km=radius_km,
            min_age=min_age,
            # djmoney ships no type stubs; mypy sees MoneyField as a plain Decimal.
            # `is None`, not `or`: Money(0) is falsy, and a free membership must stay free.
            membership_fee=(  # type: ignore[misc]
                membership_fee if membership_fee is not None else Money("10.00", "GBP")
            ),
            token_price=token_price if token_price is not None else Money("10.00", "GBP"),
            token_minutes=token_minutes,
            billing_increment_minutes=billing_increment_minutes,
            offer_wave_minutes=offer_wave_minutes,
            phone=phone,
        )
        Category.objects.bulk_create(
            Category(circle=circle, slug=slug_, name=label, vetting_level=level)
            for slug_, label, level in DEFAULT_CATEGORIES
        )
    return circle
