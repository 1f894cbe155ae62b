"""Money as integer minor units + ISO 4217 currency; Decimal only at the edges."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction

# ISO 4217 minor-unit exponents that differ from the common 2.
_ZERO = ("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF").split()  # noqa: SIM905
_THREE = ("BHD IQD JOD KWD LYD OMR TND").split()  # noqa: SIM905
_EXPONENTS = {**dict.fromkeys(_ZERO, 0), **dict.fromkeys(_THREE, 3)}


class MoneyError(ValueError):
    """An amount that cannot be represented in the currency's minor units."""


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def is_currency_code(value: str) -> bool:
    return len(value) == 3 and value.isascii() and value.isalpha() and value.isupper()


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """'12.34' USD -> 1234. Refuses sub-minor precision and non-finite values."""
    try:
        value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not a decimal amount: {amount!r}") from exc
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {amount!r}")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def floor_points(minor: int, points_per_unit: Decimal | Fraction, currency: str) -> int:
    """Points for an amount: minor units * rate per whole unit, rounded down (never over-award).
    Exact rational arithmetic, so a rate like 5 % / $0.03 (= 5/3 points per unit) never rounds
    before the final floor."""
    return math.floor(Fraction(minor, 10 ** exponent(currency)) * Fraction(points_per_unit))


def points_value_minor(points: int, point_value: Decimal, currency: str) -> int:
    """What ``points`` are worth in minor units at ``point_value`` (currency per point), rounded
    down: the value shown never promises more than the points buy."""
    return math.floor(points * Fraction(point_value) * Fraction(10 ** exponent(currency)))


def money_json(minor: int, currency: str) -> dict[str, str]:
    """``{"amount": "6.50", "currency": "USD"}``: a decimal string with the currency's own
    number of decimals (never a float)."""
    return {"amount": format(from_minor(minor, currency), "f"), "currency": currency}
