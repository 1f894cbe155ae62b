"""The till's input, parsed and bounded at the edge: each refusal is an ApiError naming its field.

The bounds follow what the database can hold: amounts and points are BIGINT. The body as a
whole (storable text) and the Idempotency-Key are checked by :mod:`walletcards.web`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from walletcards.errors import ApiError
from walletcards.money import MoneyError, exponent, to_minor

MAX_CODE = 200
MAX_REFERENCE = 100
MAX_AMOUNT_DIGITS = 12  # whole currency units: up to 999,999,999,999.99, far below 2**63 minor
MAX_POINTS = 2**63 - 1
_AMOUNT = re.compile(rf"[0-9]{{1,{MAX_AMOUNT_DIGITS}}}(?:\.[0-9]{{1,3}})?")


def code(value: Any) -> str:
    """The scanned or typed code, stripped (scanners may add a newline)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_CODE or not text.isprintable():
        raise ApiError(
            422,
            "invalid_code",
            f"code: the scanned or typed card code is required (at most {MAX_CODE} characters)",
        )
    return text


def reference(value: Any) -> str | None:
    """The receipt number, normalised so that "r-1 " and "R-1" are one receipt; None if blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = " ".join(value.split()).upper() if isinstance(value, str) else ""
    if not text or len(text) > MAX_REFERENCE or not text.isprintable():
        raise ApiError(
            422,
            "invalid_reference",
            f"reference: a receipt number, at most {MAX_REFERENCE} printable characters",
        )
    return text


def amount_minor(value: Any, currency: str) -> int:
    """A positive plain decimal string ("12.50") in the currency, as minor units."""
    minor = 0
    if isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
        try:
            minor = to_minor(Decimal(value.strip()), currency)
        except MoneyError:  # more decimals than the currency has
            minor = 0
    if minor <= 0:
        example = "12" if exponent(currency) == 0 else "12.50"
        raise ApiError(
            422,
            "invalid_amount",
            f'amount: a positive decimal string in {currency} without exponent, e.g. "{example}"'
            f" (at most {MAX_AMOUNT_DIGITS} digits before the point)",
        )
    return minor


def points(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_POINTS:
        raise ApiError(422, "invalid_points", "points: a whole number of points above 0")
    return value
