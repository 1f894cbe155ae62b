"""Daily roll-ups of the dashboard's series (admin/rollup_models.py), so that a year costs what
a month costs: a closed local day is read from its row, any day without one (today, a day not
rolled up yet) from the ledger, orders and cards with the very same statement that writes the
rows (:func:`live_figures`), so both give identical figures.

The scheduled job (:func:`roll_up`, from sync/jobs.py) rewrites the last ``LOOKBACK_DAYS``
closed days of each programme at most once every ``EVERY``, which takes in what arrives late
(an order paid yesterday whose webhook comes today, a cancellation, an entry committed just
after midnight); it also fills up to ``BACKFILL_DAYS`` older days without a row per run. A
change older than the look-back (an import of old orders, a cancellation months later) shows
after ``walletcards dashboard rollup --program SLUG --since DATE`` (:func:`rebuild`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, and_, case, func, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from walletcards.admin.period import midnight
from walletcards.admin.rollup_models import DailyRollup
from walletcards.db import Database, UTCDateTime
from walletcards.loyalty.models import Card, LedgerEntry, Order, Program
from walletcards.loyalty.programs import program_rules

CREDITS = ("earn", "bonus")
LOOKBACK_DAYS = 35
BACKFILL_DAYS = 92  # older days without a row filled per run (newest first)
EVERY = timedelta(hours=1)
CHUNK = 200  # ranges per statement: SQLite allows 500 terms in a compound SELECT
FIGURES = ("new_members", "issued", "spent", "orders", "repeat_orders")


@dataclass(frozen=True)
class Figures:
    new_members: int = 0
    issued: int = 0
    spent: int = 0
    orders: int = 0
    repeat_orders: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f) + getattr(other, f) for f in FIGURES))


def live_figures(
    session: Session, program_id: int, ranges: Sequence[tuple[datetime, datetime]]
) -> list[Figures]:
    """The figures of each UTC range [lo, hi): each one a correlated subquery over an index
    range, so the planner walks only that slice of the index (index-only on PostgreSQL: the
    indexes INCLUDE the summed columns)."""
    found: list[Figures] = []
    for at in range(0, len(ranges), CHUNK):
        found += _live_chunk(session, program_id, ranges[at : at + CHUNK])
    return found


def _live_chunk(
    session: Session, program_id: int, ranges: Sequence[tuple[datetime, datetime]]
) -> list[Figures]:
    rows = union_all(
        *(
            select(
                literal(n, Integer).label("n"),
                literal(lo, UTCDateTime()).label("lo"),
                literal(hi, UTCDateTime()).label("hi"),
            )
            for n, (lo, hi) in enumerate(ranges)
        )
    ).cte("buckets")
    lo, hi = rows.c.lo, rows.c.hi
    counted = and_(
        Order.program_id == program_id,
        Order.paid_at >= lo,
        Order.paid_at < hi,
        Order.status != "cancelled",
    )
    in_range = and_(
        LedgerEntry.program_id == program_id,
        LedgerEntry.created_at >= lo,
        LedgerEntry.created_at < hi,
    )
    query = select(
        rows.c.n,
        _scalar(
            select(func.count()).where(
                Card.program_id == program_id, Card.created_at >= lo, Card.created_at < hi
            )
        ),
        _scalar(select(_sum_if(LedgerEntry.kind.in_(CREDITS))).where(in_range)),
        _scalar(
            select(
                _sum_if(LedgerEntry.kind == "redeem") - _sum_if(LedgerEntry.kind == "restore")
            ).where(in_range)
        ),
        _scalar(select(func.count()).where(counted)),
        _scalar(select(func.count()).where(counted, Order.is_repeat.is_(True))),
    ).order_by(rows.c.n)
    return [Figures(*(int(v) for v in row[1:])) for row in session.execute(query)]


def _scalar(query: Select[Any]) -> Any:
    return func.coalesce(query.scalar_subquery(), 0)


def _sum_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, LedgerEntry.points), else_=0)), 0)


def rolled(
    session: Session, program_id: int, zone: str, first: date, last: date
) -> dict[date, Figures]:
    """The rows of the days ``first``..``last`` written in ``zone``."""
    query = select(DailyRollup.day, *(getattr(DailyRollup, f) for f in FIGURES)).where(
        DailyRollup.program_id == program_id,
        DailyRollup.zone == zone,
        DailyRollup.day >= first,
        DailyRollup.day <= last,
    )
    return {row[0]: Figures(*(int(v) for v in row[1:])) for row in session.execute(query)}


def local_today(program: Program, now: datetime) -> date:
    return now.astimezone(ZoneInfo(program_rules(program).timezone)).date()


def rebuild(session: Session, program: Program, days: Sequence[date], now: datetime) -> int:
    """(Re)write the rows of closed ``days`` from the ledger, orders and cards (an upsert:
    running it twice writes the same rows). Days from today on are left out: they are live."""
    zone = program_rules(program).timezone
    today = local_today(program, now)
    days = sorted(d for d in set(days) if d < today)
    if not days:
        return 0
    ranges = [(midnight(d, zone), midnight(d + timedelta(days=1), zone)) for d in days]
    values = [
        {"program_id": program.id, "day": d, "zone": zone, "computed_at": now, **f.__dict__}
        for d, f in zip(days, live_figures(session, program.id, ranges), strict=True)
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for at in range(0, len(values), CHUNK):
        insert = dialect.insert(DailyRollup).values(values[at : at + CHUNK])
        changed = {k: insert.excluded[k] for k in ("zone", "computed_at", *FIGURES)}
        session.execute(
            insert.on_conflict_do_update(index_elements=["program_id", "day"], set_=changed)
        )
    return len(days)


def first_day(session: Session, program: Program) -> date | None:
    """The programme's first local day with a card, an entry or an order."""
    zone = ZoneInfo(program_rules(program).timezone)
    starts = [
        session.execute(select(func.min(column)).where(owner == program.id)).scalar_one()
        for column, owner in (
            (Card.created_at, Card.program_id),
            (LedgerEntry.created_at, LedgerEntry.program_id),
            (Order.paid_at, Order.program_id),
        )
    ]
    found = [s for s in starts if s is not None]
    return min(found).astimezone(zone).date() if found else None


def due_days(session: Session, program: Program, now: datetime) -> list[date]:
    """What the job rewrites now: the last ``LOOKBACK_DAYS`` closed days when one of their rows
    is missing or older than ``EVERY``, and up to ``BACKFILL_DAYS`` older days
    without a row of the programme's zone."""
    zone = program_rules(program).timezone
    today = local_today(program, now)
    start = first_day(session, program)
    if start is None:
        return []
    recent = max(start, today - timedelta(days=LOOKBACK_DAYS))
    count, oldest = session.execute(
        select(func.count(), func.min(DailyRollup.computed_at)).where(
            DailyRollup.program_id == program.id,
            DailyRollup.zone == zone,
            DailyRollup.day >= recent,
            DailyRollup.day < today,
        )
    ).one()
    due: list[date] = []
    if count < (today - recent).days or oldest is None or oldest <= now - EVERY:
        due = [recent + timedelta(days=n) for n in range((today - recent).days)]
    have = rolled(session, program.id, zone, start, recent)
    older = (recent - start).days
    missing = (recent - timedelta(days=n) for n in range(1, older + 1))
    gaps = [d for d in missing if d not in have]
    return due + gaps[:BACKFILL_DAYS]


def roll_up(database: Database, now: datetime) -> int:
    """The scheduled job: each programme's due days, in a transaction of its own."""
    with database.transaction() as session:
        programs = session.execute(select(Program)).scalars().all()
    written = 0
    for program in programs:
        with database.transaction() as session:
            written += rebuild(session, program, due_days(session, program, now), now)
    return written
