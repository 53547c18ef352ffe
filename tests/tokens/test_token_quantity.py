"""`tokens.selectors.token_quantity`: minutes as people read them, in tokens at the circle's
price. The API and the pages both show amounts through it."""

from __future__ import annotations

from decimal import Decimal

from circle.models import Circle
from tokens.selectors import TokenQuantity, token_quantity


def test_ninety_minutes_at_an_hour_a_token_is_one_and_a_half_tokens() -> None:
    quantity = token_quantity(90, circle=Circle(token_minutes=60))

    assert quantity == TokenQuantity(minutes=90, tokens=Decimal("1.50"))
    assert quantity.as_json() == {"minutes": 90, "tokens": "1.50"}


def test_tokens_round_half_up_to_two_places() -> None:
    assert token_quantity(1, circle=Circle(token_minutes=200)).tokens == Decimal("0.01")
    assert token_quantity(20, circle=Circle(token_minutes=60)).tokens == Decimal("0.33")


def test_a_negative_balance_stays_negative() -> None:
    assert token_quantity(-30, circle=Circle(token_minutes=60)).as_json()["tokens"] == "-0.50"
