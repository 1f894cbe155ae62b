"""Segments: the standard RFM groups, scored daily, and the owner's rule segments.

RFM: for every card with a live (not cancelled) order, recency (its latest order), frequency
(its orders) and monetary value (paid net of refunds) — kept on the card (loyalty/order_facts.py)
— are scored 1 to 5 against the programme's quintile cut points, which the daily job stores
(loyalty/rfm.py: twelve values per programme, no row per card). Recency and the average of
frequency and monetary ("FM", rounded half up) place the card in one of ten groups, the
widely used RFM segment map (:data:`GROUP_MAP`); a group's members are a ``WHERE`` over the
cards and all sizes one ``GROUP BY`` over them.

Rule segments (``[[segments]]``, config_segments.py) are evaluated when asked, as a query.
Both kinds are the audience of campaigns and messages: :func:`members` gives a segment's cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, Select, exists, func, insert, literal_column, or_, select, text
from sqlalchemy.orm import Session

from walletcards.loyalty import rfm
from walletcards.loyalty.config_segments import RFM_GROUPS, SegmentRule
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.segment_models import RfmCuts, SegmentSize

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


def score_rfm(session: Session, program: Program, now: datetime) -> int:
    """Score the programme: store its RFM cut points (loyalty/rfm.py); returns how many cards
    have a live order (estimated from the sample on a large PostgreSQL table)."""
    return rfm.score(session, program, now)


def card_scores(session: Session, program: Program) -> dict[int, tuple[int, int, int, str]]:
    """Every scored card's (recency, frequency, monetary, group) as last scored (small
    programmes, tests and support: a row per card)."""
    rows = session.execute(
        select(Card.id, literal_column(rfm.triple_sql(), Integer()))
        .join(RfmCuts, RfmCuts.program_id == Card.program_id)
        .where(Card.program_id == program.id, Card.last_order_at.is_not(None))
    ).tuples()
    found: dict[int, tuple[int, int, int, str]] = {}
    for card_id, triple in rows:
        r, f, m = (int(triple) // 100, int(triple) // 10 % 10, int(triple) % 10)
        found[int(card_id)] = (r, f, m, GROUP_MAP[(r, (f + m + 1) // 2)])
    return found


def _rule_members(program: Program, rule: SegmentRule, now: datetime) -> Select[tuple[int]]:
    query = (
        select(Card.id)
        .join(Customer, Customer.id == Card.customer_id)
        .where(Card.program_id == program.id, Customer.erased_at.is_(None))
    )
    if rule.last_order_before_days is not None:
        since = now - timedelta(days=rule.last_order_before_days)
        query = query.where(or_(Card.last_order_at.is_(None), Card.last_order_at < since))
    if rule.tiers:
        query = query.where(Card.tier_code.in_(sorted(rule.tiers)))
    if rule.min_spend_minor is not None:
        query = query.where(Card.spend_minor >= rule.min_spend_minor)
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
        cells = ", ".join(str(r * 10 + fm) for (r, fm), group in GROUP_MAP.items() if group == code)
        return (
            select(Card.id)
            .join(Customer, Customer.id == Card.customer_id)
            .join(RfmCuts, RfmCuts.program_id == Card.program_id)
            .where(
                Card.program_id == program.id,
                Card.last_order_at.is_not(None),
                Customer.erased_at.is_(None),
                text(f"{rfm.cell_sql()} IN ({cells})"),
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

    everyone, scores = rfm.counts(session, program)
    rfm_sizes: dict[str, int] = {}
    for (r, f, m), count in scores.items():
        group = GROUP_MAP[(r, (f + m + 1) // 2)]
        rfm_sizes[group] = rfm_sizes.get(group, 0) + count
    found = [Segment(ALL, "all", "All members", everyone)]
    found += [Segment(code, "rfm", RFM_NAMES[code], rfm_sizes.get(code, 0)) for code in RFM_GROUPS]
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
