"""The dashboard's series: members, points and orders per bucket of the range. A closed local
day with a roll-up row (admin/rollups.py) is read from it, every other day (today, days not
rolled up yet) from the ledger, orders and cards, a run of such days in one bucket at a time:
a year of rolled-up days reads 365 small rows instead of millions of entries."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from walletcards.admin.period import Period, midnight
from walletcards.admin.rollups import Figures, live_figures, rolled
from walletcards.loyalty.models import Card

FAR = datetime(9999, 1, 1, tzinfo=UTC)  # the open end of "since"


@dataclass(frozen=True)
class Point:
    label: str  # the bucket's first local day, YYYY-MM-DD
    members: int  # at the bucket's end
    new_members: int
    issued: int
    spent: int
    orders: int
    repeat_orders: int


def series(
    session: Session, program_id: int, period: Period, members_now: int, now: datetime
) -> list[Point]:
    zone = period.zone
    today = now.astimezone(ZoneInfo(zone)).date()
    rows = rolled(session, program_id, zone, period.first, today - timedelta(days=1))
    buckets = period.buckets()
    totals = [Figures() for _ in buckets]
    runs: list[tuple[int, date, date]] = []  # (bucket, first day, day after the last)
    labels = [b.label for b in buckets]
    for n, label in enumerate(labels):
        ends = labels[n + 1] if n + 1 < len(labels) else period.last + timedelta(days=1)
        runs += _missing(rows, label, ends, today, n)
    for day, found in rows.items():
        if day <= period.last:
            n = bisect_right(labels, day) - 1
            totals[n] = totals[n] + found
    ranges = [(midnight(a, zone), midnight(b, zone)) for _, a, b in runs]
    for (n, _, _), found in zip(runs, live_figures(session, program_id, ranges), strict=True):
        totals[n] = totals[n] + found
    # Members before the range = all members now - those who joined since it began (in the
    # range, then after it: rows for the closed days, the cards themselves for the others).
    after = period.last + timedelta(days=1)
    since = sum(t.new_members for t in totals)
    since += sum(f.new_members for d, f in rows.items() if d >= after)
    later = [
        (midnight(a, zone), midnight(b, zone)) for _, a, b in _missing(rows, after, today, today, 0)
    ]
    later.append((midnight(max(after, today), zone), FAR))
    since += session.execute(
        select(func.count()).where(
            Card.program_id == program_id,
            or_(*(and_(Card.created_at >= lo, Card.created_at < hi) for lo, hi in later)),
        )
    ).scalar_one()
    points, members = [], members_now - since
    for bucket, t in zip(buckets, totals, strict=True):
        members += t.new_members
        points.append(
            Point(
                bucket.label.isoformat(),
                members,
                t.new_members,
                t.issued,
                t.spent,
                t.orders,
                t.repeat_orders,
            )
        )
    return points


def _missing(
    rows: dict[date, Figures], first: date, end: date, today: date, n: int
) -> list[tuple[int, date, date]]:
    """The runs of days in [first, end) without a row (today and later never have one)."""
    runs: list[tuple[int, date, date]] = []
    day = first
    while day < end:
        if day >= today or day not in rows:
            if runs and runs[-1][2] == day:
                runs[-1] = (n, runs[-1][1], day + timedelta(days=1))
            else:
                runs.append((n, day, day + timedelta(days=1)))
        day += timedelta(days=1)
    return runs
