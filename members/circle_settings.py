"""A circle's settings, changed by its coordinators: prices and rules, and the kinds of help
with the vetting each needs. Services of the circle's own rows, kept here rather than in
`circle` because every change is audited and the audit log is members' (STYLE.md: `circle`
imports no app)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from djmoney.money import Money

from circle.errors import Conflict, Forbidden, InvalidInput, NotFound
from circle.models import Category, Circle, VettingLevel
from members.models import RoleName
from members.selectors import CATEGORY_ADDED, CATEGORY_CHANGED, SETTING_CHANGED, Caller
from members.services import audit_record

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


def _coordinator_check(caller: Caller) -> None:
    if RoleName.COORDINATOR not in caller.roles:
        raise Forbidden("forbidden", "Only the circle's coordinators can change its settings.")


def _audit(*, circle: Circle, caller: Caller, action: str, data: dict[str, Any]) -> None:
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
