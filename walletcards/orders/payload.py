"""Typed reading of a webhook's JSON; every problem names the field (answered 422)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from walletcards.money import MoneyError, to_minor
from walletcards.orders.events import PayloadError


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("body", f"not valid JSON ({exc})") from exc
    except RecursionError as exc:  # json.loads on deeply nested input
        raise PayloadError("body", "nested too deeply") from exc
    if not isinstance(data, dict):
        raise PayloadError("body", "must be a JSON object")
    return data


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
    return value


def text(data: dict[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise PayloadError(f"{path}{key}", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{path}{key}", "must be a string")
    return str(value)  # ids beyond 2**53 stay exact: Python's json keeps them as int


def ident(data: dict[str, Any], key: str, path: str) -> str:
    value = text(data, key, path, required=True)
    assert value is not None
    return value


def decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(field, "must be a decimal amount")
    try:
        # floats (older Shopify refund subtotals) are read via str(): 195.67 -> "195.67"
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise PayloadError(field, f"{value!r} is not a decimal amount") from exc
    if not number.is_finite():
        raise PayloadError(field, "must be a finite amount")
    return number


def minor(value: Any, currency: str, field: str) -> int:
    try:
        return to_minor(decimal(value, field), currency)
    except MoneyError as exc:
        raise PayloadError(field, str(exc)) from exc


def timestamp(value: Any, field: str) -> datetime | None:
    """ISO 8601 (with or without offset: naive means UTC, as WooCommerce's *_gmt fields)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(field, "must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError(field, f"{value!r} is not an ISO 8601 date-time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def birthday(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PayloadError(field, "must be a date like 1990-03-05") from exc


def email(value: str | None) -> str | None:
    return value.strip().lower() if value and "@" in value else None
