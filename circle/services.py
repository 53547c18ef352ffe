from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.text import slugify
from djmoney.money import Money

from circle.errors import Conflict, Forbidden, InvalidInput, NotFound
from circle.models import DEFAULT_CATEGORIES, Category, Circle, VettingLevel
from circle.selectors import postcode_resolve

if TYPE_CHECKING:
    from members.selectors import Caller


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


# --- A circle's settings, changed by its coordinators -----------------------------------------

# Each setting a coordinator may change on the settings page: (label, kind, least, most).
# Money is in pounds (two places); the rest are whole numbers.
SETTINGS: dict[str, tuple[str, str, Decimal, Decimal]] = {
    "membership_fee": ("membership fee", "money", Decimal("0"), Decimal("1000")),
    "token_price": ("token price", "money", Decimal("0"), Decimal("1000")),
    "billing_increment_minutes": ("billing increment", "minutes", Decimal("1"), Decimal("480")),
    "offer_wave_minutes": ("wait between offers", "minutes", Decimal("1"), Decimal("1440")),
    "approval_threshold_minutes": (
        "approval threshold",
        "minutes",
        Decimal("0"),
        Decimal("100000"),
    ),
    "no_helper_warning_hours": ("warning time", "hours", Decimal("1"), Decimal("336")),
}

SETTING_CHANGED = "circle.setting_changed"
CATEGORY_ADDED = "circle.category_added"
CATEGORY_CHANGED = "circle.category_changed"


def _coordinator_check(caller: Caller) -> None:
    # The role's name as members/models.py spells it: circle imports no app.
    if "coordinator" not in caller.roles:
        raise Forbidden("forbidden", "Only the circle's coordinators can change its settings.")


def _audit(*, circle: Circle, caller: Caller, action: str, data: dict[str, Any]) -> None:
    # The audit row lives in members, which imports circle: imported when a change is made,
    # not when circle loads, so circle still imports no app at load time.
    from members.services import audit_record

    audit_record(circle=circle, action=action, caller=caller, data=data)


def _setting_value(field: str, raw: Decimal | int) -> Decimal | int:
    label, kind, least, most = SETTINGS[field]
    value = Decimal(raw)
    if not value.is_finite():
        raise InvalidInput("setting_invalid", f"The {label} must be a number.", field=field)
    if kind == "money":
        if value < 0:
            raise InvalidInput(
                "setting_negative", f"The {label} cannot be less than £0.00.", field=field
            )
        if value != value.quantize(Decimal("0.01")):
            raise InvalidInput(
                "setting_pennies", f"The {label} is in pounds and pence, like 10.50.", field=field
            )
        if value > most:
            raise InvalidInput(
                "setting_too_large", f"The {label} cannot be more than £{most:,.2f}.", field=field
            )
        return value
    if value != value.to_integral_value():
        raise InvalidInput(
            "setting_whole", f"The {label} is a whole number of {kind}.", field=field
        )
    if value < least:
        raise InvalidInput(
            "setting_too_small", f"The {label} must be at least {least} {kind}.", field=field
        )
    if value > most:
        raise InvalidInput(
            "setting_too_large", f"The {label} cannot be more than {most} {kind}.", field=field
        )
    return int(value)


def circle_settings_change(
    *, circle: Circle, caller: Caller, changes: Mapping[str, Decimal | int]
) -> list[str]:
    """Change some of the circle's prices and rules (SETTINGS' fields). Every value is checked
    before any is written; each one that differs is written with an audit row naming who changed
    it, its old and its new value, in one transaction. Returns the fields changed."""
    _coordinator_check(caller)
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise ValueError(f"not a setting: {sorted(unknown)}")  # a bug, never user input
    values = {field: _setting_value(field, raw) for field, raw in changes.items()}
    changed: list[str] = []
    with transaction.atomic(durable=True):
        locked = Circle.objects.select_for_update().get(pk=circle.pk)
        for field, value in values.items():
            current = getattr(locked, field)
            old = current.amount if isinstance(current, Money) else current
            if old == value:
                continue
            setattr(locked, field, Money(value, "GBP") if SETTINGS[field][1] == "money" else value)
            _audit(
                circle=locked,
                caller=caller,
                action=SETTING_CHANGED,
                data={"field": field, "from": str(old), "to": str(value)},
            )
            changed.append(field)
        if changed:
            locked.save(update_fields=changed)
    for field in changed:
        setattr(circle, field, getattr(locked, field))
    return changed


def _category_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("category_name_blank", "Give the kind of help a name.", field="name")
    if len(name) > 80:
        raise InvalidInput(
            "category_name_too_long", "A name is at most 80 characters.", field="name"
        )
    return name


def _vetting_level(level: str) -> str:
    if level not in VettingLevel.values:
        raise InvalidInput(
            "vetting_level_invalid", f"{level!r} is not a vetting level.", field="vetting_level"
        )
    return level


def category_add(*, circle: Circle, caller: Caller, name: str, vetting_level: str) -> Category:
    """A new kind of help, with the vetting a helper needs for it; its slug is made from its
    name and never changes (tasks and the API name it)."""
    _coordinator_check(caller)
    name = _category_name(name)
    vetting_level = _vetting_level(vetting_level)
    slug = slugify(name)[:50]
    if not slug:
        raise InvalidInput(
            "category_name_invalid", "Use some letters or digits in the name.", field="name"
        )
    with transaction.atomic(durable=True):
        if Category.objects.filter(circle=circle, slug=slug).exists():
            raise Conflict(
                "category_exists", f"There is already a kind of help called {name!r}.", field="name"
            )
        category = Category.objects.create(
            circle=circle, slug=slug, name=name, vetting_level=vetting_level
        )
        _audit(
            circle=circle,
            caller=caller,
            action=CATEGORY_ADDED,
            data={"category": slug, "name": name, "vetting_level": vetting_level},
        )
    return category


def category_change(
    *, circle: Circle, caller: Caller, category: Category, name: str, vetting_level: str
) -> list[str]:
    """Rename a kind of help and set the vetting a helper needs for it. A higher level takes
    effect at once for new offers and feeds; tasks already accepted keep their helper. Returns
    what changed ("name", "vetting_level"), each audited with its old and new value."""
    _coordinator_check(caller)
    if category.circle_id != circle.pk:
        raise NotFound("No such kind of help.", code="category_not_found")
    name = _category_name(name)
    vetting_level = _vetting_level(vetting_level)
    changed: list[str] = []
    with transaction.atomic(durable=True):
        locked = Category.objects.select_for_update().get(pk=category.pk)
        for field, value in (("name", name), ("vetting_level", vetting_level)):
            old = getattr(locked, field)
            if old == value:
                continue
            setattr(locked, field, value)
            changed.append(field)
            _audit(
                circle=circle,
                caller=caller,
                action=CATEGORY_CHANGED,
                data={"category": locked.slug, "field": field, "from": old, "to": value},
            )
        if changed:
            locked.save(update_fields=changed)
    category.name, category.vetting_level = locked.name, locked.vetting_level
    return changed
