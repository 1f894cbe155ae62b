"""The till's input, parsed and bounded at the edge: each refusal is an ApiError naming its field.

The bounds follow what the database can hold: amounts and points are BIGINT. The body as a
whole (storable text) and the Idempotency-Key are checked by :mod:`walletcards.web`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from walletcards.errors import ApiError
from walletcards.loyalty.rules import OrderLine
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


def amount_minor(
    value: Any, currency: str, field: str = "amount", *, code: str = "invalid_amount"
) -> int:
    """A positive plain decimal string ("12.50") in the currency, as minor units."""
    minor = money_minor(value, currency)
    if minor is None or minor <= 0:
        example = "12" if exponent(currency) == 0 else "12.50"
        raise ApiError(
            422,
            code,
            f'{field}: a positive decimal string in {currency} without exponent, e.g. "{example}"'
            f" (at most {MAX_AMOUNT_DIGITS} digits before the point)",
        )
    return minor


def money_minor(value: Any, currency: str) -> int | None:
    """A plain decimal string (0 or more) in the currency as minor units; None if it is not
    one (an exponent, a sign, too many digits or more decimals than the currency has)."""
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value.strip()):
        return None
    try:
        return to_minor(Decimal(value.strip()), currency)
    except MoneyError:  # more decimals than the currency has
        return None


def points(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_POINTS:
        raise ApiError(422, "invalid_points", "points: a whole number of points above 0")
    return value


MAX_LINES = 200  # lines of one quoted purchase
MAX_LINE_TEXT = 200  # a line's SKU, brand or product type
_LINE_TEXT = ("sku", "brand", "product_type")


def lines(value: Any, currency: str, amount: int) -> tuple[OrderLine, ...]:
    """A quote's optional ``lines`` (``[{"sku", "brand", "product_type", "amount"}]``): at most
    MAX_LINES, each amount a decimal string (0 or more), adding up to the purchase's amount."""
    if value is None:
        return ()
    if not isinstance(value, list) or not 0 < len(value) <= MAX_LINES:
        raise ApiError(422, "invalid_lines", f"lines: a list of 1 to {MAX_LINES} line objects")
    found = []
    for index, raw in enumerate(value):
        where = f"lines[{index}]"
        if not isinstance(raw, dict) or set(raw) - {*_LINE_TEXT, "amount"}:
            raise ApiError(
                422,
                "invalid_lines",
                f"{where}: an object with amount and optional sku, brand, product_type",
            )
        texts = {}
        for key in _LINE_TEXT:
            text = raw.get(key)
            if text is not None and (
                not isinstance(text, str) or len(text) > MAX_LINE_TEXT or not text.isprintable()
            ):
                raise ApiError(
                    422,
                    "invalid_lines",
                    f"{where}.{key}: text of at most {MAX_LINE_TEXT} printable characters",
                )
            texts[key] = text
        minor = money_minor(raw.get("amount"), currency)
        if minor is None:
            raise ApiError(
                422, "invalid_lines", f"{where}.amount: a decimal string (0 or more) in {currency}"
            )
        found.append(OrderLine(minor, texts["sku"], texts["brand"], texts["product_type"]))
    if sum(line.amount_minor for line in found) != amount:
        raise ApiError(422, "invalid_lines", "lines: their amounts must add up to amount")
    return tuple(found)


def discount(value: Any, currency: str) -> tuple[int, str | None] | None:
    """What an earn says the till took off: a decimal string, or the quote's own ``discount``
    object (``{"percent", "amount"}``); (minor units, percent if given), None without one."""
    if value is None:
        return None
    percent = None
    if isinstance(value, dict):
        if set(value) - {"percent", "amount"}:
            raise ApiError(422, "invalid_discount", "discount: the quote's {percent, amount}")
        percent = value.get("percent")
        if percent is not None and (not isinstance(percent, str) or len(percent) > 20):
            raise ApiError(422, "invalid_discount", "discount.percent: the quote's percent")
        value = value.get("amount")
    minor = amount_minor(value, currency, "discount", code="invalid_discount")
    return minor, percent
