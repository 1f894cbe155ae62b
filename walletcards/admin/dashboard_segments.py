"""The dashboard's segments and campaigns panels (read-only): the RFM grid as last scored, each
segment's recorded daily sizes over the page's range, a segment's members for its CSV (the
owner's API and the dashboard's own link share the query), and every campaign's figures
(admin/campaign_figures.py).

Speed (docs/dashboard.md): the grid is one ``GROUP BY`` over the programme's cards, each scored
against its stored cut points (loyalty/rfm.py, at most 125 groups); the sizes are the daily
job's ``segment_sizes`` rows (primary key ``(program_id, day, segment)``), never a recount of the
segments; a campaign's figures read ``ix_campaign_grants_campaign`` and
``ix_orders_program_paid_at``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from walletcards.admin.campaign_figures import figures, status
from walletcards.loyalty import rfm, segments
from walletcards.loyalty.config_segments import RFM_GROUPS
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config

SEGMENT_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # what a segment code can be
MEMBER_COLUMNS = ["member_number", "name", "email", "phone", "tier", "available", "pending"]


@dataclass(frozen=True)
class Cell:
    recency: int
    fm: int  # the average of frequency and monetary, rounded half up
    group: str
    cards: int


def rfm_grid(session: Session, program: Program) -> list[list[Cell]]:
    """The 5x5 RFM map: rows recency 5 down to 1, columns FM 1 to 5, each cell with its group
    (segments.GROUP_MAP) and how many cards the last scoring put there."""
    counts: dict[tuple[int, int], int] = {}
    _, scores = rfm.counts(session, program)
    for (recency, frequency, monetary), count in scores.items():
        cell = (recency, (frequency + monetary + 1) // 2)
        counts[cell] = counts.get(cell, 0) + count
    return [
        [Cell(r, fm, segments.GROUP_MAP[(r, fm)], counts.get((r, fm), 0)) for fm in range(1, 6)]
        for r in range(5, 0, -1)
    ]


@dataclass(frozen=True)
class SegmentSizes:
    code: str
    kind: str  # "all" | "rfm" | "rule"
    name: str  # a rule segment's name in the page's language; the template names the others
    history: list[tuple[date, int]]  # recorded days in the range, oldest first

    @property
    def sizes(self) -> list[int]:
        return [size for _, size in self.history]

    @property
    def latest(self) -> int | None:
        return self.history[-1][1] if self.history else None

    @property
    def change(self) -> int | None:
        return self.history[-1][1] - self.history[0][1] if self.history else None


def segment_sizes(
    session: Session, program: Program, first: date, last: date, lang: str
) -> list[SegmentSizes]:
    """Every segment of the programme (all, the RFM groups, the rule segments) with the sizes
    the daily job recorded from ``first`` to ``last`` (local days)."""
    history = segments.size_history(session, program, first)

    def days(code: str) -> list[tuple[date, int]]:
        return [(day, size) for day, size in history.get(code, []) if day <= last]

    found = [SegmentSizes(segments.ALL, "all", segments.ALL, days(segments.ALL))]
    found += [SegmentSizes(code, "rfm", code, days(code)) for code in RFM_GROUPS]
    for rule in program_config(program).segments:
        name = dict(rule.names).get(lang, rule.name)
        found.append(SegmentSizes(rule.code, "rule", name, days(rule.code)))
    return found


def member_rows(session: Session, program: Program, code: str, now: datetime) -> list[Row[Any]]:
    """A segment's members, one row of MEMBER_COLUMNS each (raises segments.UnknownSegment)."""
    ids = segments.members(program, code, now)
    return list(
        session.execute(
            select(
                Card.member_number,
                Customer.name,
                Customer.email,
                Customer.phone,
                Card.tier_code,
                Card.available,
                Card.pending,
            )
            .join(Customer, Customer.id == Card.customer_id)
            .where(Card.id.in_(ids))
            .order_by(Card.id)
        ).all()
    )


@dataclass(frozen=True)
class CampaignRow:
    code: str
    name: str
    status: str  # scheduled | running | ended
    window: tuple[str, str] | None  # the latest occurrence's start and end, local time
    reach: int | None  # None: not started yet
    points_paid: int | None
    orders: tuple[int, int] | None  # (during, before)
    spend: tuple[Decimal, Decimal] | None  # (during, before), in the programme's currency


def _local(moment: str, zone: str) -> str:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def campaign_rows(
    session: Session, program: Program, now: datetime, lang: str
) -> list[CampaignRow]:
    config = program_config(program)
    zone = config.rules.timezone
    found = []
    for campaign in config.campaigns:
        state = status(campaign, zone, now)
        window = state["window"]
        numbers = figures(session, program, campaign, zone, now)
        found.append(
            CampaignRow(
                code=campaign.code,
                name=campaign.name_in(lang),
                status=state["status"],
                window=(_local(window["start"], zone), _local(window["end"], zone))
                if window
                else None,
                reach=numbers["reach"] if numbers else None,
                points_paid=numbers["points_paid"] if numbers else None,
                orders=(numbers["orders"]["during"], numbers["orders"]["before"])
                if numbers
                else None,
                spend=(
                    Decimal(numbers["spend"]["during"]["amount"]),
                    Decimal(numbers["spend"]["before"]["amount"]),
                )
                if numbers
                else None,
            )
        )
    return found
