"""Reads one TOML table for the programme file, recording every problem with its field path."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from walletcards.loyalty.periods import Span

# The largest points value any rule may name: far above any sane programme, far below overflow.
MAX_POINTS = 10_000_000
MAX_STRING = 2000  # any free-text value of a programme file


class TableReader:
    """Reads one table, recording problems instead of stopping at the first."""

    def __init__(self, data: Any, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail("", "must be a table")
            data = {}
        self.data: dict[str, Any] = data
        self.seen: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path and key else (self.path or key)

    def fail(self, key: str, message: str) -> None:
        self.problems.append((self.where(key), message))

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key)

    def string(
        self,
        key: str,
        default: str | None = None,
        *,
        required: bool = False,
        max_length: int = MAX_STRING,
    ) -> str | None:
        """A non-empty string of at most ``max_length`` characters without NUL (the database
        columns it may land in are bounded, and PostgreSQL refuses NUL in text)."""
        value = self.raw(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
            return default
        if len(value) > max_length or "\x00" in value:
            self.fail(key, f"must be at most {max_length} characters, without NUL")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
            return default
        return value

    def integer(
        self,
        key: str,
        default: int | None,
        *,
        low: int = 0,
        high: int = MAX_POINTS,
        required: bool = False,
    ) -> int | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, f"must be a whole number from {low} to {high}")
            return default
        return value

    def decimal(
        self, key: str, default: Decimal | None, *, required: bool = False
    ) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.fail(key, 'must be a decimal written as a string, e.g. "0.05"')
            return default
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(key, f"{value!r} is not a decimal number")
            return default
        if not number.is_finite() or number < 0 or number > 1_000_000:
            self.fail(key, "must be a decimal from 0 to 1000000")
            return default
        return number

    def span(self, days_key: str, months_key: str) -> Span | None:
        """A length of time given in days or in calendar months (never both), None if neither."""
        days = self.integer(days_key, None, low=1, high=3650)
        months = self.integer(months_key, None, low=1, high=120)
        if days is not None and months is not None:
            self.fail(months_key, f"set either {self.where(days_key)} or this, not both")
            return None
        if months is not None:
            return Span(months=months)
        return None if days is None else Span(days=days)

    def strings(self, key: str) -> frozenset[str]:
        value = self.raw(key)
        if value is None:
            return frozenset()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(key, "must be a list of non-empty strings")
            return frozenset()
        return frozenset(v.strip().casefold() for v in value)

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.seen):
            self.fail(key, "unknown key (misspelt?)")
