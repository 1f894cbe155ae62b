"""Money as integer minor units + ISO 4217 currency; Decimal only at the edges."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

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


def floor_points(minor: int, points_per_unit: Decimal, currency: str) -> int:
    """Points for an amount: minor units * rate per whole unit, rounded down (never over-award)."""
    exact = Decimal(minor).scaleb(-exponent(currency)) * points_per_unit
    return int(exact.to_integral_value(rounding=ROUND_DOWN))
