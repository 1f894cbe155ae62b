"""Money helpers: the value of points, its JSON shape and its formatting per language."""

from __future__ import annotations

from decimal import Decimal

from walletcards.i18n import language
from walletcards.money import from_minor, money_json, points_value_minor


def test_the_value_of_points_rounds_down_to_the_minor_unit() -> None:
    assert points_value_minor(650, Decimal("0.01"), "USD") == 650
    assert points_value_minor(651, Decimal("0.005"), "USD") == 325  # $3.255 -> $3.25
    assert points_value_minor(3, Decimal("0.3333"), "USD") == 99
    assert points_value_minor(650, Decimal("0.5"), "JPY") == 325  # no minor unit
    assert points_value_minor(7, Decimal("0.001"), "KWD") == 7  # three decimals
    assert points_value_minor(10**15, Decimal("0.01"), "USD") == 10**15


def test_money_json_is_a_decimal_string_with_the_currencys_decimals() -> None:
    assert money_json(650, "USD") == {"amount": "6.50", "currency": "USD"}
    assert money_json(0, "USD") == {"amount": "0.00", "currency": "USD"}
    assert money_json(325, "JPY") == {"amount": "325", "currency": "JPY"}
    assert money_json(10**18, "USD")["amount"] == "10000000000000000.00"


def format_money(minor: int, currency: str, lang: str) -> str:
    return language(lang).money(from_minor(minor, currency), currency)


def test_the_value_of_points_is_formatted_in_the_cards_language() -> None:
    assert format_money(650, "USD", "en") == "$6.50"
    assert format_money(650, "USD", "ru") == "6,50\xa0$"
    assert format_money(123456, "RUB", "ru") == "1\xa0234,56\xa0₽"
    assert format_money(650, "USD", "zh") == "US$6.50"
