"""circle_create: what a new circle starts with, and what it refuses (with the field named)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from djmoney.money import Money

from circle.errors import Conflict, InvalidInput
from circle.models import Category, Circle
from circle.services import circle_create


def create(**overrides: object) -> Circle:
    args: dict[str, object] = {
        "slug": "lambeth",
        "name": "Lambeth Circle",
        "postcode": "SE1 7PB",
        "radius_km": Decimal("5"),
    }
    args.update(overrides)
    return circle_create(**args)


@pytest.mark.django_db
def test_circle_create_uses_design_defaults() -> None:
    circle = create(name="  Lambeth Circle ")

    assert circle.name == "Lambeth Circle"
    assert circle.min_age == 50
    assert circle.membership_fee == Money("10.00", "GBP")
    assert circle.token_price == Money("10.00", "GBP")
    assert circle.token_minutes == 60
    assert circle.billing_increment_minutes == 30
    assert Category.objects.filter(circle=circle).count() == 8


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"slug": "Lambeth North"}, "slug_invalid", "slug"),
        ({"name": " "}, "blank", "name"),
        ({"postcode": "SE1"}, "postcode_invalid", "postcode"),
        ({"radius_km": Decimal("-1")}, "invalid", "radius_km"),
        ({"min_age": 17}, "invalid", "min_age"),
        ({"membership_fee": Money("-0.01", "GBP")}, "invalid", "membership_fee"),
        ({"token_price": Money("-5", "GBP")}, "invalid", "token_price"),
    ],
)
def test_circle_create_refuses_bad_values(
    overrides: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create(**overrides)

    assert (refused.value.code, refused.value.field) == (code, field)
    assert not Circle.objects.exists()
    assert not Category.objects.exists()


@pytest.mark.django_db
def test_circle_create_allows_a_free_membership() -> None:
    circle = create(membership_fee=Money("0", "GBP"))

    assert circle.membership_fee == Money("0", "GBP")


@pytest.mark.django_db
def test_circle_create_refuses_a_taken_slug() -> None:
    create()

    with pytest.raises(Conflict) as refused:
        create(name="Another")

    assert refused.value.code == "circle_exists"
    assert Circle.objects.count() == 1
