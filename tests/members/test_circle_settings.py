"""A circle's settings changed by its coordinators: checked, audited with old and new values,
nonsense refused with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from djmoney.money import Money

from circle.errors import Conflict, Forbidden, InvalidInput, NotFound
from circle.messages import message_for
from circle.models import Category
from members.circle_settings import category_add, category_change, circle_settings_change
from members.models import AuditEvent
from members.selectors import CATEGORY_ADDED, CATEGORY_CHANGED, SETTING_CHANGED, caller_for
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def cora(personas: Personas):
    return caller_for(user=personas.cora.user, circle=personas.southwark)


def test_changed_settings_are_written_and_each_audited_with_old_and_new(personas) -> None:
    changed = circle_settings_change(
        circle=personas.southwark,
        caller=cora(personas),
        changes={
            "membership_fee": Decimal("12.50"),
            "token_price": Decimal("10.00"),  # unchanged: no row
            "billing_increment_minutes": 15,
            "no_helper_warning_hours": 48,
        },
    )

    assert changed == ["membership_fee", "billing_increment_minutes", "no_helper_warning_hours"]
    personas.southwark.refresh_from_db()
    assert personas.southwark.membership_fee == Money("12.50", "GBP")
    assert personas.southwark.billing_increment_minutes == 15
    assert personas.southwark.no_helper_warning_hours == 48
    rows = AuditEvent.objects.filter(action=SETTING_CHANGED).order_by("id")
    assert [(r.data, r.actor_id) for r in rows] == [
        ({"field": "membership_fee", "from": "10.00", "to": "12.50"}, personas.cora.user.pk),
        ({"field": "billing_increment_minutes", "from": "30", "to": "15"}, personas.cora.user.pk),
        ({"field": "no_helper_warning_hours", "from": "24", "to": "48"}, personas.cora.user.pk),
    ]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("membership_fee", Decimal("-1"), "setting_negative"),
        ("token_price", Decimal("-0.01"), "setting_negative"),
        ("token_price", Decimal("1.005"), "setting_pennies"),
        ("token_price", Decimal("5000"), "setting_too_large"),
        ("billing_increment_minutes", 0, "setting_too_small"),
        ("billing_increment_minutes", Decimal("7.5"), "setting_whole"),
        ("offer_wave_minutes", 0, "setting_too_small"),
        ("no_helper_warning_hours", 0, "setting_too_small"),
        ("no_helper_warning_hours", 1000, "setting_too_large"),
        ("approval_threshold_minutes", -5, "setting_too_small"),
        ("token_price", Decimal("NaN"), "setting_invalid"),
    ],
)
def test_nonsense_is_refused_and_nothing_is_written(personas, field, value, code) -> None:
    with pytest.raises(InvalidInput) as refused:
        circle_settings_change(
            circle=personas.southwark,
            caller=cora(personas),
            changes={"offer_wave_minutes": 30, field: value},
        )

    assert (refused.value.code, refused.value.field) == (code, field)
    assert message_for(refused.value)
    personas.southwark.refresh_from_db()
    assert personas.southwark.offer_wave_minutes == 60
    assert not AuditEvent.objects.filter(action=SETTING_CHANGED).exists()


def test_an_operator_cannot_change_settings(personas) -> None:
    with pytest.raises(Forbidden):
        circle_settings_change(
            circle=personas.southwark,
            caller=caller_for(user=personas.otto.user, circle=personas.southwark),
            changes={"offer_wave_minutes": 30},
        )


def test_a_category_is_renamed_and_its_level_changed_with_an_audit_each(personas) -> None:
    diy = Category.objects.get(circle=personas.southwark, slug="diy")

    changed = category_change(
        circle=personas.southwark,
        caller=cora(personas),
        category=diy,
        name="  DIY and   repairs ",
        vetting_level="enhanced",
    )

    assert changed == ["name", "vetting_level"]
    diy.refresh_from_db()
    assert (diy.slug, diy.name, diy.vetting_level) == ("diy", "DIY and repairs", "enhanced")
    assert [r.data for r in AuditEvent.objects.filter(action=CATEGORY_CHANGED).order_by("id")] == [
        {"category": "diy", "field": "name", "from": "DIY", "to": "DIY and repairs"},
        {"category": "diy", "field": "vetting_level", "from": "basic", "to": "enhanced"},
    ]


def test_another_circles_category_is_not_found(personas) -> None:
    theirs = Category.objects.get(circle=personas.suffolk, slug="diy")

    with pytest.raises(NotFound):
        category_change(
            circle=personas.southwark,
            caller=cora(personas),
            category=theirs,
            name="Mine now",
            vetting_level="none",
        )


def test_a_category_is_added_once(personas) -> None:
    added = category_add(
        circle=personas.southwark, caller=cora(personas), name="Pet care", vetting_level="basic"
    )

    assert (added.slug, added.name) == ("pet-care", "Pet care")
    assert AuditEvent.objects.get(action=CATEGORY_ADDED).data == {
        "category": "pet-care",
        "name": "Pet care",
        "vetting_level": "basic",
    }
    with pytest.raises(Conflict) as again:
        category_add(
            circle=personas.southwark, caller=cora(personas), name="pet  CARE", vetting_level="none"
        )
    assert again.value.code == "category_exists"


@pytest.mark.parametrize(
    ("name", "level", "code"),
    [
        ("   ", "basic", "category_name_blank"),
        ("x" * 81, "basic", "category_name_too_long"),
        ("!!!", "basic", "category_name_invalid"),
        ("Pets", "superb", "vetting_level_invalid"),
    ],
)
def test_a_category_that_makes_no_sense_is_refused(personas, name, level, code) -> None:
    before = Category.objects.count()

    with pytest.raises(InvalidInput) as refused:
        category_add(
            circle=personas.southwark, caller=cora(personas), name=name, vetting_level=level
        )

    assert refused.value.code == code
    assert Category.objects.count() == before
