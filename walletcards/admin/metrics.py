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
- top customers: by net spend (total - refunded) of their orders in the range
  (admin/top_customers.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from walletcards.admin.period import Period
from walletcards.admin.series import Point as Point
from walletcards.admin.series import series as series_of
from walletcards.admin.top_customers import TopCustomer as TopCustomer
from walletcards.admin.top_customers import top_customers
from walletcards.loyalty.models import Card, Lot, Program
from walletcards.loyalty.programs import program_rules

EXPIRY_WINDOW = timedelta(days=30)
NO_TIER = "no tier"


@dataclass(frozen=True)
class TierCount:
    code: str | None
    name: str
    members: int


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
        series=series_of(session, program.id, period, sum(t.members for t in tiers), now),
        tiers=tiers,
        top_tier=levels[-1].code if levels else None,
        expiring_30_days=_expiring(session, program.id, now),
        top_customers=top_customers(session, program.id, period),
    )


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
