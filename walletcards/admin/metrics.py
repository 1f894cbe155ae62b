"""The programme's key numbers, each one SQL aggregate over an index (no Python loops over rows),
so the dashboard stays fast with a million cards and ten million entries.

Definitions (docs/dashboard.md):
- members: cards issued; the series counts members at each bucket's end;
- issued: points credited (``earn`` and ``bonus`` entries); spent: points redeemed, less
  redemptions that staff undid (``restore``); share spent = spent / issued over the range;
- repeat-order rate: of the members' orders paid in the range (cancelled ones left out), the
  share placed by a member who already had a counted order (``orders.is_repeat``, set when
  the order is recorded);
- members per tier: now; top-tier share = members in the highest level / all members;
- expiring: points left in lots that expire in the next 30 days from now;
- top customers: by net spend (total - refunded) of their orders in the range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from walletcards.admin.period import Period
from walletcards.db import UTCDateTime
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Lot, Order, Program
from walletcards.loyalty.programs import program_rules

CREDITS = ("earn", "bonus")
EXPIRY_WINDOW = timedelta(days=30)
TOP = 10
NO_TIER = "no tier"


@dataclass(frozen=True)
class Point:
    label: str  # the bucket's first local day, YYYY-MM-DD
    members: int  # at the bucket's end
    new_members: int
    issued: int
    spent: int
    orders: int
    repeat_orders: int


@dataclass(frozen=True)
class TierCount:
    code: str | None
    name: str
    members: int


@dataclass(frozen=True)
class TopCustomer:
    member_number: str
    name: str | None
    email: str | None
    orders: int
    spend_minor: int
    available: int
    tier: str | None


@dataclass(frozen=True)
class Dashboard:
    period: Period
    series: list[Point]
    tiers: list[TierCount]
    top_tier: str | None
    expiring_30_days: int
    top_customers: list[TopCustomer]

    @property
    def members(self) -> int:
        return self.series[-1].members

    @property
    def new_members(self) -> int:
        return sum(p.new_members for p in self.series)

    @property
    def issued(self) -> int:
        return sum(p.issued for p in self.series)

    @property
    def spent(self) -> int:
        return sum(p.spent for p in self.series)

    @property
    def orders(self) -> int:
        return sum(p.orders for p in self.series)

    @property
    def repeat_orders(self) -> int:
        return sum(p.repeat_orders for p in self.series)

    def tier_name(self, code: str | None) -> str:
        """A tier's name as the programme spells it; a code no longer in its file as it is."""
        names = {t.code: t.name for t in self.tiers}
        return names.get(code) or code or NO_TIER

    @property
    def spent_share(self) -> float | None:
        return ratio(self.spent, self.issued)

    @property
    def repeat_rate(self) -> float | None:
        return ratio(self.repeat_orders, self.orders)

    @property
    def top_tier_share(self) -> float | None:
        if self.top_tier is None:
            return None
        top = sum(t.members for t in self.tiers if t.code == self.top_tier)
        return ratio(top, sum(t.members for t in self.tiers))

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "timezone": self.period.zone,
            "step": self.period.step,
            "members": self.members,
            "new_members": self.new_members,
            "points_issued": self.issued,
            "points_spent": self.spent,
            "spent_share": self.spent_share,
            "orders": self.orders,
            "repeat_orders": self.repeat_orders,
            "repeat_rate": self.repeat_rate,
            "top_tier": self.top_tier,
            "top_tier_share": self.top_tier_share,
            "expiring_30_days": self.expiring_30_days,
            "tiers": [asdict(t) for t in self.tiers],
            "series": [asdict(p) for p in self.series],
            "top_customers": [asdict(c) for c in self.top_customers],
        }


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def dashboard(session: Session, program: Program, period: Period, now: datetime) -> Dashboard:
    rules = program_rules(program)
    levels = rules.tiers.levels if rules.tiers else ()
    tiers = _tiers(session, program.id, {t.code: t.name for t in levels})
    return Dashboard(
        period=period,
        series=_series(session, program.id, period, sum(t.members for t in tiers)),
        tiers=tiers,
        top_tier=levels[-1].code if levels else None,
        expiring_30_days=_expiring(session, program.id, now),
        top_customers=_top_customers(session, program.id, period),
    )


def _series(session: Session, program_id: int, period: Period, members_now: int) -> list[Point]:
    """One row per bucket; each figure is a correlated subquery over an index range, so the
    planner walks only that bucket's slice of the index (index-only on PostgreSQL: the
    indexes INCLUDE the summed columns)."""
    buckets = period.buckets()
    rows = union_all(
        *(
            select(
                literal(n, Integer).label("n"),
                literal(b.start, UTCDateTime()).label("lo"),
                literal(b.end, UTCDateTime()).label("hi"),
            )
            for n, b in enumerate(buckets)
        )
    ).cte("buckets")
    lo, hi = rows.c.lo, rows.c.hi
    counted = and_(
        Order.program_id == program_id,
        Order.paid_at >= lo,
        Order.paid_at < hi,
        Order.status != "cancelled",
    )
    in_bucket = and_(
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
        _scalar(select(_sum_if(LedgerEntry.kind.in_(CREDITS))).where(in_bucket)),
        _scalar(
            select(
                _sum_if(LedgerEntry.kind == "redeem") - _sum_if(LedgerEntry.kind == "restore")
            ).where(in_bucket)
        ),
        _scalar(select(func.count()).where(counted)),
        _scalar(select(func.count()).where(counted, Order.is_repeat.is_(True))),
    ).order_by(rows.c.n)
    # Members before the range = all members now - those who joined since it began: an index
    # range scan of the recent cards, where counting the older ones would read nearly all.
    since = session.execute(
        select(func.count()).where(Card.program_id == program_id, Card.created_at >= period.start)
    ).scalar_one()
    points, members = [], members_now - int(since)
    for n, new, issued, spent, orders, repeats in session.execute(query):
        members += int(new)
        points.append(
            Point(
                buckets[n].label.isoformat(),
                members,
                int(new),
                int(issued),
                int(spent),
                int(orders),
                int(repeats),
            )
        )
    return points


def _scalar(query: Select[Any]) -> Any:
    return func.coalesce(query.scalar_subquery(), 0)


def _sum_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, LedgerEntry.points), else_=0)), 0)


def _tiers(session: Session, program_id: int, names: dict[str, str]) -> list[TierCount]:
    counts: dict[str | None, int] = {
        code: int(count)
        for code, count in session.execute(
            select(Card.tier_code, func.count())
            .where(Card.program_id == program_id)
            .group_by(Card.tier_code)
        )
    }
    listed = [TierCount(code, name, counts.get(code, 0)) for code, name in names.items()]
    others = [
        TierCount(code, code or NO_TIER, count)
        for code, count in counts.items()
        if code not in names
    ]
    return sorted(others, key=lambda t: t.name) + listed


def _expiring(session: Session, program_id: int, now: datetime) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(Lot.remaining), 0)).where(
            Lot.program_id == program_id,
            Lot.remaining > 0,
            Lot.expires_at >= now,
            Lot.expires_at < now + EXPIRY_WINDOW,
        )
    ).scalar_one()
    return int(total)


def _top_customers(session: Session, program_id: int, period: Period) -> list[TopCustomer]:
    spend = func.sum(Order.total_minor - Order.refunded_minor)
    ranked = (
        select(Order.card_id, func.count().label("orders"), spend.label("spend"))
        .where(
            Order.program_id == program_id,
            Order.paid_at >= period.start,
            Order.paid_at < period.end,
            Order.status != "cancelled",
        )
        .group_by(Order.card_id)
        .order_by(spend.desc(), Order.card_id)
        .limit(TOP)
        .subquery()
    )
    rows = session.execute(
        select(
            Card.member_number,
            Customer.name,
            Customer.email,
            ranked.c.orders,
            ranked.c.spend,
            Card.available,
            Card.tier_code,
        )
        .join(Card, Card.id == ranked.c.card_id)
        .join(Customer, Customer.id == Card.customer_id)
        .order_by(ranked.c.spend.desc(), Card.id)
    ).all()
    return [TopCustomer(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), r[6]) for r in rows]
