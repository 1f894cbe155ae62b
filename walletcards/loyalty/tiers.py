"""Tier qualification from order history, never from points: spending never lowers a tier.

- A lifetime tier counts every order: a purchase can only raise it, a refund only lower it.
- A windowed tier (``period = "requalify"``, or ``window_spend``) is, at every moment, what the
  orders of its rolling window earn. Purchases and refunds set it; as orders leave the window
  the scheduled job lowers it at the card's ``tier_review_at`` (the moment the oldest order it
  needs leaves). The card face derives the tier from the same window, so the card, the till and
  the earn rate of the next order always agree; the card says what keeps the tier.
- An imported tier (``cards.tier_floor``, admin/importer.py) is a floor under either kind until
  ``tier_floor_until``; a windowed card's review is then due when the floor ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.config_rules import ProgramRules, Tier, TierRules
from walletcards.loyalty.models import Card, Order, Program
from walletcards.loyalty.rules import tier_by_code, tier_for, tier_rank, with_floor
from walletcards.outbound import outbox

COUNTING = ("paid", "partially_refunded")  # orders whose spend still counts towards tiers


@dataclass(frozen=True)
class TierOutlook:
    tier: Tier | None  # the card's tier now
    metric: int  # counting orders, or net spend in minor units
    keep: tuple[int, datetime] | None  # windowed: (orders or spend still needed, before when)
    held_until: datetime | None = None  # an imported tier floor holds the tier until then


def qualifying_metric(session: Session, rules: ProgramRules, card: Card, now: datetime) -> int:
    """Counting orders, or net spend in minor units, over the tier's window (or a lifetime)."""
    tiers = rules.tiers
    assert tiers is not None
    start = tiers.window_start(now, rules.timezone)
    if start is None and tiers.qualify_by == "paid_orders":
        return card.paid_orders
    query = _counting(tiers, card).with_only_columns(_weight(tiers))
    if start is not None:
        query = query.where(Order.paid_at > start)
    return int(session.execute(query).scalar_one() or 0)


def _weight(tiers: TierRules) -> ColumnElement[int]:
    if tiers.qualify_by == "paid_orders":
        return func.count()
    return func.sum(Order.total_minor - Order.refunded_minor)


def _counting(tiers: TierRules, card: Card) -> Select[tuple[int]]:
    """The card's orders that count towards its tier (the columns are the caller's)."""
    counting = (
        Order.counted.is_(True)
        if tiers.qualify_by == "paid_orders"
        else (Order.status.in_(COUNTING))
    )
    return select(Order.id).where(Order.card_id == card.id, counting)


def _window_orders(
    session: Session, tiers: TierRules, card: Card, start: datetime
) -> list[tuple[datetime, int]]:
    """(paid_at, weight) of the counting orders in the window, oldest first."""
    query = (
        _counting(tiers, card)
        .with_only_columns(Order.paid_at, _weight(tiers))
        .where(Order.paid_at > start)
        .group_by(Order.paid_at)
        .order_by(Order.paid_at)
    )
    return [(paid_at, int(weight)) for paid_at, weight in session.execute(query).tuples()]


def leaves_window(rules: ProgramRules, paid_at: datetime) -> datetime:
    """The first moment an order paid at ``paid_at`` no longer counts in the tier's window (the
    window's start is computed back from "now", so a month-end date can stay a day longer)."""
    assert rules.tiers is not None and rules.tiers.window is not None
    window = rules.tiers.window
    moment = window.after(paid_at, rules.timezone)
    while window.before(moment, rules.timezone) < paid_at:
        moment += timedelta(days=1)
    return moment


def tier_outlook(session: Session, rules: ProgramRules, card: Card, now: datetime) -> TierOutlook:
    """The card's tier now, the metric it stands on and, in a windowed programme, how much
    more (orders or spend) before which moment keeps it."""
    tiers = rules.tiers
    assert tiers is not None
    start = tiers.window_start(now, rules.timezone)
    if start is None:
        metric = qualifying_metric(session, rules, card, now)
        return TierOutlook(tier_by_code(tiers, card.tier_code), metric, None)
    orders = _window_orders(session, tiers, card, start)
    metric = sum(weight for _, weight in orders)
    earned = tier_for(tiers, metric)
    tier = with_floor(tiers, earned, card.tier_floor, floor_active(card, now))
    if tier != earned:  # the floor holds it: nothing to keep up until the floor ends
        return TierOutlook(tier, metric, None, card.tier_floor_until)
    keep = None
    if tier is not None and tier.threshold > 0:
        left = metric
        for paid_at, weight in orders:  # oldest first: the order whose exit drops the tier
            left -= weight
            if left < tier.threshold:
                keep = (tier.threshold - left, leaves_window(rules, paid_at))
                break
    return TierOutlook(tier, metric, keep)


def refresh_tier(
    session: Session,
    rules: ProgramRules,
    card: Card,
    now: datetime,
    direction: Literal["raise", "lower"],
) -> Tier | None:
    """Re-evaluate the card's tier after a purchase ("raise": a lifetime tier can only rise) or a
    refund ("lower"); a windowed tier is set to what its window earns either way, and the card's
    next review is when that tier would lapse. A change is a card change and ``tier.changed``."""
    tiers = rules.tiers
    if tiers is None:
        return None
    if tiers.window is not None:
        outlook = tier_outlook(session, rules, card, now)
        computed, changed = outlook.tier, _code(outlook.tier) != card.tier_code
        card.tier_review_at = outlook.keep[1] if outlook.keep else outlook.held_until
    else:
        computed = tier_for(tiers, qualifying_metric(session, rules, card, now))
        computed = with_floor(tiers, computed, card.tier_floor, floor_active(card, now))
        current_rank = tier_rank(tiers, card.tier_code)
        computed_rank = tier_rank(tiers, _code(computed))
        if direction == "raise":
            changed = computed_rank > current_rank
        else:
            changed = computed_rank < current_rank
    if changed:
        before, card.tier_code = card.tier_code, _code(computed)
        card.tier_since = now
        card_changed(session, card, now)
        program = session.get(Program, card.program_id)
        assert program is not None
        outbox.tier_changed(session, program, card, before, now)
    return tier_by_code(tiers, card.tier_code)


def floor_active(card: Card, now: datetime) -> bool:
    """Whether the card's imported tier floor (admin/importer.py) still holds at ``now``."""
    return card.tier_floor is not None and (
        card.tier_floor_until is None or now < card.tier_floor_until
    )


def _code(tier: Tier | None) -> str | None:
    return tier.code if tier else None
