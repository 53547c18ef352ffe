"""`tokens.selectors.token_quantity`: minutes as people read them, in tokens at the circle's
price. The API and the pages both show amounts through it."""

from __future__ import annotations

from decimal import Decimal

from circle.models import Circle
from circle.words import token_count, token_count_text
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


def test_the_trial_balance_s_integer_text_is_the_decimal_s_text() -> None:
    """`token_count_text` (the trial balance's fast path) writes exactly what `str` of the
    Decimal writes, halves, negatives and a debit too small to show ("-0.00") included."""
    for token_minutes in (1, 7, 60, 90, 199, 200, 201, 300, 1441):
        for minutes in [*range(-1000, 1001), 10**12 + 7, -(10**12) - 3]:
            assert token_count_text(minutes, token_minutes=token_minutes) == str(
                token_count(minutes, token_minutes=token_minutes)
            ), (minutes, token_minutes)
