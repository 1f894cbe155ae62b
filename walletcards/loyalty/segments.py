"""Segments: the standard RFM groups, scored daily, and the owner's rule segments.

RFM: for every card with a paid (not cancelled) order, recency (the latest order), frequency
(orders) and monetary value (paid net of refunds) are ranked within the programme and cut into
quintiles 1 to 5 by their mid-rank ((percent_rank + cume_dist) / 2, so equal values share a score
and a crowd of one-order customers is not split at random). Recency and the average of
frequency and monetary ("FM", rounded half up) place the card in one of ten groups, the
widely used RFM segment map (:data:`GROUP_MAP`). One set-based statement scores a whole
programme (``INSERT … SELECT … ON CONFLICT``), so a million cards are not a Python loop.

Rule segments (``[[segments]]``, config_segments.py) are evaluated when asked, as a query.
Both kinds are the audience of campaigns and messages: :func:`members` gives a segment's cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, bindparam, delete, exists, func, insert, not_, select, text
from sqlalchemy.orm import Session

from walletcards.db import UTCDateTime
from walletcards.loyalty.config_segments import RFM_GROUPS, SegmentRule
from walletcards.loyalty.models import Card, Customer, Order, Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.segment_models import RfmScore, SegmentSize

ALL = "all"  # every card of the programme (an erased customer's card excluded)
RFM_NAMES = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalists": "Potential loyalists",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need attention",
    "at_risk": "At risk",
    "cant_lose": "Can't lose them",
    "hibernating": "Hibernating",
    "lost": "Lost",
}


def _group(recency: int, fm: int) -> str:
    if recency >= 4 and fm >= 4:
        return "champions" if recency == 5 else "loyal"
    if recency == 3 and fm >= 4:
        return "loyal"
    if recency >= 4 and fm in (2, 3):
        return "potential_loyalists"
    if recency >= 4:
        return "new" if recency == 5 else "promising"
    if recency == 3:
        return "need_attention"
    if fm == 5:
        return "cant_lose"
    if fm >= 3:
        return "at_risk"
    return "hibernating" if recency == 2 else "lost"


# (recency, FM) -> group, every one of the 25 cells
GROUP_MAP = {(r, fm): _group(r, fm) for r in range(1, 6) for fm in range(1, 6)}
assert set(GROUP_MAP.values()) == set(RFM_GROUPS)


class UnknownSegment(LookupError):
    pass


def _quintile(rank: str) -> str:
    return (
        f"CASE WHEN {rank} <= 0.2 THEN 1 WHEN {rank} <= 0.4 THEN 2 WHEN {rank} <= 0.6 THEN 3 "
        f"WHEN {rank} <= 0.8 THEN 4 ELSE 5 END"
    )


def _mid(column: str) -> str:
    return f"(PERCENT_RANK() OVER (ORDER BY {column}) + CUME_DIST() OVER (ORDER BY {column})) / 2"


_GROUP_CASE = (
    "CASE "
    + " ".join(
        f"WHEN recency = {r} AND (frequency + monetary + 1) / 2 = {fm} THEN '{group}'"
        for (r, fm), group in GROUP_MAP.items()
    )
    + " END"
)
# built from constants only (no input): the quintile cuts and the 25-cell group map
_SCORE = f"""
WITH stats AS (
    SELECT card_id, MAX(paid_at) AS last_at, COUNT(*) AS n,
           SUM(total_minor - refunded_minor) AS spend
    FROM orders WHERE program_id = :program AND status <> 'cancelled'
    GROUP BY card_id
), ranked AS (
    SELECT card_id, {_mid("last_at")} AS r, {_mid("n")} AS f, {_mid("spend")} AS m FROM stats
), scored AS (
    SELECT card_id, {_quintile("r")} AS recency, {_quintile("f")} AS frequency,
           {_quintile("m")} AS monetary
    FROM ranked
)
INSERT INTO rfm_scores (card_id, program_id, recency, frequency, monetary, rfm_group, scored_at)
SELECT card_id, :program, recency, frequency, monetary, {_GROUP_CASE}, :now FROM scored WHERE true
ON CONFLICT (card_id) DO UPDATE SET recency = excluded.recency,
    frequency = excluded.frequency, monetary = excluded.monetary,
    rfm_group = excluded.rfm_group, scored_at = excluded.scored_at
"""  # noqa: S608
SCORE_SQL = text(_SCORE).bindparams(bindparam("now", type_=UTCDateTime()))


def score_rfm(session: Session, program: Program, now: datetime) -> int:
    """Score every card of the programme that has an order; returns how many were scored."""
    session.execute(SCORE_SQL, {"program": program.id, "now": now})
    session.execute(
        delete(RfmScore).where(RfmScore.program_id == program.id, RfmScore.scored_at < now)
    )
    count = select(func.count()).where(RfmScore.program_id == program.id)
    return int(session.scalar(count) or 0)


def _rule_members(program: Program, rule: SegmentRule, now: datetime) -> Select[tuple[int]]:
    query = (
        select(Card.id)
        .join(Customer, Customer.id == Card.customer_id)
        .where(Card.program_id == program.id, Customer.erased_at.is_(None))
    )
    live = and_(Order.card_id == Card.id, Order.status != "cancelled")
    if rule.last_order_before_days is not None:
        since = now - timedelta(days=rule.last_order_before_days)
        query = query.where(not_(exists().where(live, Order.paid_at >= since)))
    if rule.tiers:
        query = query.where(Card.tier_code.in_(sorted(rule.tiers)))
    if rule.min_spend_minor is not None:
        spend = (
            select(func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0))
            .where(live)
            .scalar_subquery()
        )
        query = query.where(spend >= rule.min_spend_minor)
    if rule.birthday_month is not None:
        query = query.where(func.extract("month", Customer.birthday) == rule.birthday_month)
    if rule.joined_within_days is not None:
        query = query.where(Customer.created_at >= now - timedelta(days=rule.joined_within_days))
    if rule.marketing_consent is not None:
        query = query.where(Customer.marketing_consent.is_(rule.marketing_consent))
    return query


def members(program: Program, code: str, now: datetime) -> Select[tuple[int]]:
    """The query of a segment's card ids: ``all``, an RFM group (as last scored) or a rule
    segment of the programme; raises :class:`UnknownSegment`."""
    if code == ALL:
        return _rule_members(program, SegmentRule(ALL, ALL), now)
    if code in RFM_GROUPS:
        return (
            select(RfmScore.card_id)
            .join(Card, Card.id == RfmScore.card_id)
            .join(Customer, Customer.id == Card.customer_id)
            .where(
                RfmScore.program_id == program.id,
                RfmScore.rfm_group == code,
                Customer.erased_at.is_(None),
            )
        )
    for rule in program_config(program).segments:
        if rule.code == code:
            return _rule_members(program, rule, now)
    raise UnknownSegment(code)


def is_member(session: Session, program: Program, code: str, card_id: int, now: datetime) -> bool:
    """Whether the card is in the segment now (an unknown segment has nobody)."""
    try:
        query = members(program, code, now).subquery()
    except UnknownSegment:
        return False
    column = next(iter(query.c))
    return bool(session.scalar(select(exists().where(column == card_id))))


@dataclass(frozen=True)
class Segment:
    code: str
    kind: str  # "all" | "rfm" | "rule"
    name: str
    size: int


def segments(session: Session, program: Program, now: datetime, lang: str) -> list[Segment]:
    """Every segment of the programme with its size now (RFM groups as last scored)."""

    def size(query: Select[tuple[int]]) -> int:
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    found = [Segment(ALL, "all", "All members", size(members(program, ALL, now)))]
    rfm = dict(
        session.execute(
            select(RfmScore.rfm_group, func.count())
            .where(RfmScore.program_id == program.id)
            .group_by(RfmScore.rfm_group)
        )
        .tuples()
        .all()
    )
    found += [Segment(code, "rfm", RFM_NAMES[code], int(rfm.get(code, 0))) for code in RFM_GROUPS]
    for rule in program_config(program).segments:
        name = dict(rule.names).get(lang, rule.name)
        found.append(Segment(rule.code, "rule", name, size(_rule_members(program, rule, now))))
    return found


def recorded(session: Session, program: Program, day: date) -> bool:
    """Whether the day's sizes are written (the daily job has run for that day)."""
    return (
        session.scalar(
            select(SegmentSize.segment)
            .where(SegmentSize.program_id == program.id, SegmentSize.day == day)
            .limit(1)
        )
        is not None
    )


def record_sizes(session: Session, program: Program, day: date, now: datetime) -> bool:
    """Write the day's size of every segment, once (False when the day is recorded already)."""
    if recorded(session, program, day):
        return False
    rows = [
        {"program_id": program.id, "day": day, "segment": s.code, "size": s.size}
        for s in segments(session, program, now, program_config(program).locale)
    ]
    session.execute(insert(SegmentSize), rows)
    return True


def size_history(
    session: Session, program: Program, since: date
) -> dict[str, list[tuple[date, int]]]:
    """Each segment's recorded daily sizes from ``since``, oldest first."""
    history: dict[str, list[tuple[date, int]]] = {}
    rows = session.execute(
        select(SegmentSize.segment, SegmentSize.day, SegmentSize.size)
        .where(SegmentSize.program_id == program.id, SegmentSize.day >= since)
        .order_by(SegmentSize.segment, SegmentSize.day)
    ).tuples()
    for code, day, count in rows:
        history.setdefault(code, []).append((day, int(count)))
    return history
