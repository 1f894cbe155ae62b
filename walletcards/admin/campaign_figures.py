"""A campaign's figures for the owner: its reach (cards it paid), the points it paid (less what
refunds took back), and the members' orders and spend during its latest occurrence against the
same length of time just before it (paid orders net of refunds, cancellations left out)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.loyalty.campaign_models import CampaignGrant
from walletcards.loyalty.config_campaigns import Campaign
from walletcards.loyalty.models import Order, Program
from walletcards.money import money_json


def status(campaign: Campaign, timezone: str, now: datetime) -> dict[str, Any]:
    """scheduled / running / ended, with the latest occurrence's window."""
    window = campaign.latest(now, timezone)
    if window is None:
        return {"status": "ended", "window": None}
    state = "scheduled" if now < window.start else "running" if now < window.end else "ended"
    return {
        "status": state,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
    }


def figures(
    session: Session, program: Program, campaign: Campaign, timezone: str, now: datetime
) -> dict[str, Any] | None:
    window = campaign.latest(now, timezone)
    if window is None or window.start > now:
        return None
    reach, paid = session.execute(
        select(
            func.count(func.distinct(CampaignGrant.card_id)),
            func.coalesce(func.sum(CampaignGrant.points - CampaignGrant.points_reversed), 0),
        ).where(
            CampaignGrant.program_id == program.id,
            CampaignGrant.campaign == campaign.code,
            CampaignGrant.occurrence == window.key,
        )
    ).one()
    end = min(window.end, now + timedelta.resolution)  # orders paid up to now
    length = end - window.start
    during = _orders(session, program, window.start, end)
    before = _orders(session, program, window.start - length, window.start)
    return {
        "reach": int(reach),
        "points_paid": int(paid),
        "orders": {"during": during[0], "before": before[0]},
        "spend": {
            "during": money_json(during[1], program.currency),
            "before": money_json(before[1], program.currency),
        },
    }


def _orders(session: Session, program: Program, start: datetime, end: datetime) -> tuple[int, int]:
    count, spend = session.execute(
        select(
            func.count(Order.id),
            func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0),
        ).where(
            Order.program_id == program.id,
            Order.paid_at >= start,
            Order.paid_at < end,
            Order.status != "cancelled",
        )
    ).one()
    return int(count), int(spend)
