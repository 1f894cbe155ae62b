"""Typed, bounded reading of a webhook's JSON; every problem names the field (answered 422).

Everything that may reach the database is checked here, before anything is written: strings
against their column (and for NUL and lone surrogates, which PostgreSQL and UTF-8 refuse),
amounts and counts against BIGINT, dates against what date arithmetic can handle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from walletcards.money import MoneyError, to_minor
from walletcards.orders.events import PayloadError

# Column sizes (walletcards/loyalty/models.py, walletcards/orders/models.py).
MAX_ID = 200  # orders.external_id, customer and refund ids
MAX_DELIVERY_ID = 255  # inbox_deliveries.delivery_id / event_id
MAX_TOPIC = 100  # inbox_deliveries.topic
MAX_EMAIL = 320
MAX_PHONE = 40
MAX_NAME = 200
MAX_TEXT = 255  # anything else we read (sku, brand, status, currency, locale ...)
MAX_ITEMS = 5000  # lines or refunds in one body
MAX_QUANTITY = 1_000_000
MAX_CODES = 20  # discount codes read from one paid order
MAX_CODE = 100  # characters of one (a reservation's code is at most 64)
# One amount, and one order's total, in minor units: far above any order, far below BIGINT
# (2**63) even summed over MAX_ITEMS lines.
MAX_MINOR = 10**15
_MAX_DIGITS = 40  # characters of one decimal amount
_YEARS = (1970, 9000)  # date arithmetic (windows, holds) stays far from datetime's limits


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("body", f"not valid JSON ({exc})") from exc
    except RecursionError as exc:  # json.loads on deeply nested input
        raise PayloadError("body", "nested too deeply") from exc
    except ValueError as exc:  # an integer beyond Python's 4300-digit conversion limit
        raise PayloadError("body", "a number is too long") from exc
    if not isinstance(data, dict):
        raise PayloadError("body", "must be a JSON object")
    return data


def clean(value: str, field: str, limit: int = MAX_TEXT) -> str:
    """``value`` if it fits ``limit`` characters and holds no NUL and no lone surrogate."""
    if len(value) > limit:
        raise PayloadError(field, f"is longer than {limit} characters")
    if "\x00" in value:
        raise PayloadError(field, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PayloadError(field, "is not valid Unicode (a lone surrogate)") from exc
    return value


def header(headers: Mapping[str, str], name: str, limit: int) -> str:
    """A header (lower-case name) as a bounded string; "" when absent."""
    return clean(headers.get(name, ""), name, limit)


def obj(data: dict[str, Any], key: str, path: str, *, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{path}{key}", "is required and must be an object")
    return value


def items(data: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"{path}{key}", "must be a list of objects")
    if len(value) > MAX_ITEMS:
        raise PayloadError(f"{path}{key}", f"has more than {MAX_ITEMS} entries")
    return value


def text(
    data: dict[str, Any], key: str, path: str, *, required: bool = False, limit: int = MAX_TEXT
) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise PayloadError(f"{path}{key}", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{path}{key}", "must be a string")
    # ids beyond 2**53 stay exact: Python's json keeps them as int
    return clean(str(value), f"{path}{key}", limit)


def label(data: dict[str, Any], key: str, path: str) -> str | None:
    """An optional descriptive string (sku, vendor ...): other types count as absent."""
    value = data.get(key)
    return clean(value, f"{path}{key}") if isinstance(value, str) and value else None


def ident(data: dict[str, Any], key: str, path: str) -> str:
    value = text(data, key, path, required=True, limit=MAX_ID)
    assert value is not None
    return value


def decimal(value: Any, field: str, *, negative: bool = False) -> Decimal:
    """A finite decimal below MAX_MINOR in size; negative only where ``negative`` allows."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(field, "must be a decimal amount")
    else:
        # floats (older Shopify refund subtotals) are read via str(): 195.67 -> "195.67"
        raw = str(value)
        if len(raw) > _MAX_DIGITS or not raw.isascii():
            raise PayloadError(field, "is not a decimal amount of reasonable size")
        try:
            number = Decimal(raw)
        except InvalidOperation as exc:
            raise PayloadError(field, f"{raw!r} is not a decimal amount") from exc
    if not number.is_finite():
        raise PayloadError(field, "must be a finite amount")
    # adjusted(): the exponent of the leading digit, read without arithmetic (no Overflow)
    if not number.is_zero() and number.adjusted() >= 15:
        raise PayloadError(field, "is beyond any order")
    if number.is_signed() and not number.is_zero() and not negative:
        raise PayloadError(field, "must not be negative")
    return number


def minor(value: Any, currency: str, field: str, *, negative: bool = False) -> int:
    try:
        amount = to_minor(decimal(value, field, negative=negative), currency)
    except MoneyError as exc:
        raise PayloadError(field, str(exc)) from exc
    return bounded(amount, field)


def bounded(amount: int, field: str) -> int:
    """An amount (or a total) in minor units within MAX_MINOR either way."""
    if abs(amount) > MAX_MINOR:
        raise PayloadError(field, "is beyond any order")
    return amount


def quantity(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise PayloadError(field, f"must be a whole number from 0 to {MAX_QUANTITY}")
    return value


def timestamp(value: Any, field: str) -> datetime | None:
    """ISO 8601 (with or without offset: naive means UTC, as WooCommerce's *_gmt fields)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise PayloadError(field, "must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise PayloadError(field, f"{value!r} is not an ISO 8601 date-time") from exc
    if not _YEARS[0] <= parsed.year < _YEARS[1]:
        raise PayloadError(field, f"must lie between the years {_YEARS[0]} and {_YEARS[1]}")
    return parsed


def birthday(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 10:
            raise ValueError(value)
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PayloadError(field, "must be a date like 1990-03-05") from exc


def email(value: str | None, field: str) -> str | None:
    """Lower-cased (which may lengthen it) and bounded; a value without "@" counts as absent."""
    if not value or "@" not in value:
        return None
    return clean(value.strip().lower(), field, MAX_EMAIL)


def person_name(first: str | None, last: str | None, field: str) -> str | None:
    return clean(f"{first or ''} {last or ''}".strip(), field, MAX_NAME) or None


def shop_codes(data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    """The ``code`` of each object of ``data[key]`` (a shop's discount codes or coupon lines),
    upper-case; codes that cannot be a reservation's (not a string, empty, over MAX_CODE) are
    skipped rather than refused, and only the first MAX_CODES count: a shop's order is never
    refused for its own discounts."""
    found = [
        value.strip().upper()
        for entry in items(data, key, path)
        if isinstance(value := entry.get("code"), str) and 0 < len(value.strip()) <= MAX_CODE
    ]
    return tuple(clean(code, f"{path}{key}") for code in dict.fromkeys(found))[:MAX_CODES]


def code_list(value: Any, field: str) -> tuple[str, ...]:
    """Our own format's list of codes: at most MAX_CODES strings of 1 to MAX_CODE characters,
    upper-case; anything else is refused (422)."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_CODES:
        raise PayloadError(field, f"must be a list of at most {MAX_CODES} codes")
    codes = []
    for i, code in enumerate(value):
        if not isinstance(code, str) or not code.strip():
            raise PayloadError(f"{field}[{i}]", "must be a non-empty string")
        codes.append(clean(code.strip(), f"{field}[{i}]", MAX_CODE).upper())
    return tuple(dict.fromkeys(codes))
