"""Lengths of time as a programme writes them ("180 days", "6 months"), on its own calendar.

Months are calendar months in the programme's time zone: 31 Aug + 6 months is the last day of
February (28 or 29), at the same local time of day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def add_months(moment: datetime, months: int, timezone: str) -> datetime:
    """``moment`` moved by whole calendar months (negative: back) in ``timezone``; a day that
    the target month lacks becomes its last day. Returns an aware UTC datetime."""
    local = moment.astimezone(ZoneInfo(timezone))
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day).astimezone(UTC)


@dataclass(frozen=True)
class Span:
    """A number of days or of calendar months (a programme file sets one of them)."""

    days: int = 0
    months: int = 0

    def after(self, start: datetime, timezone: str) -> datetime:
        return add_months(start, self.months, timezone) + timedelta(days=self.days)

    def before(self, end: datetime, timezone: str) -> datetime:
        return add_months(end, -self.months, timezone) - timedelta(days=self.days)

    @property
    def shortest_days(self) -> int:
        """The fewest whole days this span can last (a month can be 28 days)."""
        return self.days + 28 * self.months

    def __str__(self) -> str:
        return f"{self.months} months" if self.months else f"{self.days} days"
