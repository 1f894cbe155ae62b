"""The dashboard's date range: whole local days in the programme's time zone, cut into buckets
(days up to three months, weeks up to two years, then months) whose bounds are UTC instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # ten years: at most 120 monthly buckets
DEFAULT_DAYS = 30


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Bucket:
    label: date  # the bucket's first local day
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive


@dataclass(frozen=True)
class Period:
    first: date  # local, inclusive
    last: date  # local, inclusive
    zone: str

    @property
    def start(self) -> datetime:
        return midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return midnight(self.last + timedelta(days=1), self.zone)

    @property
    def step(self) -> str:
        days = (self.last - self.first).days + 1
        return "day" if days <= 92 else "week" if days <= 731 else "month"

    def buckets(self) -> list[Bucket]:
        labels: list[date] = []
        day = self.first
        while day <= self.last:
            labels.append(day)
            if self.step == "day":
                day += timedelta(days=1)
            elif self.step == "week":
                day += timedelta(days=7)
            else:
                day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        bounds = [midnight(label, self.zone) for label in labels] + [self.end]
        return [Bucket(label, bounds[i], bounds[i + 1]) for i, label in enumerate(labels)]


def midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


def parse_period(first: str | None, last: str | None, zone: str, now: datetime) -> Period:
    """``from``/``to`` as YYYY-MM-DD (both optional: the last 30 days up to today, local)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    try:
        end = date.fromisoformat(last) if last else today
        begin = date.fromisoformat(first) if first else end
    except ValueError as exc:
        raise PeriodError("from/to: dates as YYYY-MM-DD") from exc
    if not 2000 <= end.year <= 2100:  # before any arithmetic: 0001-01-01 - 29 days overflows
        raise PeriodError("from/to: between 2000 and 2100")
    if not first:
        begin = end - timedelta(days=DEFAULT_DAYS - 1)
    if begin.year < 2000:
        raise PeriodError("from/to: between 2000 and 2100")
    if begin > end:
        raise PeriodError("from: must not be after to")
    if (end - begin).days >= MAX_DAYS:
        raise PeriodError(f"the range may span at most {MAX_DAYS} days")
    return Period(begin, end, zone)
