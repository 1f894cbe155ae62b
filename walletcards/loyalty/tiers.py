"""Tier qualification from order history, never from points: spending never lowers a tier."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.loyalty.config import Tier, TierRules
from walletcards.loyalty.models import Card, Order
from walletcards.loyalty.rules import tier_by_code, tier_for, tier_rank, with_floor

COUNTING = ("paid", "partially_refunded")  # orders that still count towards tiers


def qualifying_metric(session: Session, tiers: TierRules, card: Card, now: datetime) -> int:
    """Paid orders, or net spend in minor units (lifetime or in the rolling window)."""
    if tiers.qualify_by == "paid_orders":
        return card.paid_orders
    query = select(func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0)).where(
        Order.card_id == card.id, Order.status.in_(COUNTING)
    )
    if tiers.qualify_by == "window_spend":
        query = query.where(Order.paid_at > now - timedelta(days=tiers.window_days))
    return int(session.execute(query).scalar_one())


def refresh_tier(
    session: Session,
    tiers: TierRules | None,
    card: Card,
    now: datetime,
    direction: Literal["raise", "lower", "requalify"],
) -> Tier | None:
    """Re-evaluate the card's tier. A purchase may only raise it, a refund only lower it, a
    periodic re-qualification set it to what the history earns. Bumps the version on change."""
    if tiers is None:
        return None
    computed = tier_for(tiers, qualifying_metric(session, tiers, card, now))
    floor_active = card.tier_floor_until is None or now < card.tier_floor_until
    computed = with_floor(tiers, computed, card.tier_floor, floor_active)
    current_rank = tier_rank(tiers, card.tier_code)
    computed_rank = tier_rank(tiers, computed.code if computed else None)
    if direction == "raise":
        changed = computed_rank > current_rank
    elif direction == "lower":
        changed = computed_rank < current_rank
    else:
        changed = computed_rank != current_rank
    if changed:
        card.tier_code = computed.code if computed else None
        card.tier_since = now
        card.version += 1
        card.updated_at = now
    return tier_by_code(tiers, card.tier_code)
