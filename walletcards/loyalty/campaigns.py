"""What campaigns (``[[campaigns]]``, config_campaigns.py) pay, posted as their own entries.

- :func:`award_order`: a paid order (called by ``awards`` once its own credits are planned)
  earns the campaigns running at its ``paid_at`` in the programme's time zone. Overlapping
  campaigns combine: of the multipliers the highest applies (the extra is base * (m - 1),
  rounded down, so "2" pays exactly twice the base); bonuses add up; a streak pays when the
  order completes one. Campaign points never push an order over ``[limits]``: they are cut to
  fit. Entries are ``bonus`` credits keyed and caused ``campaign:<code>:<order key>``, held
  like the order's points.
- :func:`take_back`: a refund or cancellation (called by ``refunds.reverse``) takes back a
  multiplier's extra pro rata with the base points, and a bonus or streak reward once the
  order stops counting; each once (what is taken is kept on the grant), the expired part not.
- :func:`give_gift`: a gift's credit to one card, once per campaign occurrence and card.

Audience: ``tiers`` (the card's level), ``min_order_amount`` (the order's eligible amount);
``segment`` (the card is in it now: loyalty/segments.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.loyalty import ledger, segments
from walletcards.loyalty.campaign_models import CampaignGrant
from walletcards.loyalty.config_campaigns import Campaign, Window
from walletcards.loyalty.config_rules import ProgramRules
from walletcards.loyalty.models import Card, LedgerEntry, Lot, Order, Program
from walletcards.loyalty.order_book import order_key
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.rules import lot_dates, reversal_target

CAUSE = "campaign:"


@dataclass(frozen=True)
class StreakProgress:
    campaign: Campaign
    missing: int  # counting orders still needed
    by: datetime  # before this moment


MemberOf = Callable[[str], bool]


def applies(campaign: Campaign, tier_code: str | None, member_of: MemberOf) -> bool:
    """Whether a card at this level, in the segments ``member_of`` says, is in the campaign's
    audience."""
    if campaign.segment is not None and not member_of(campaign.segment):
        return False
    return not campaign.tiers or (tier_code is not None and tier_code in campaign.tiers)


def member_of(session: Session, program: Program, card_id: int, now: datetime) -> MemberOf:
    """Segment membership of one card (loyalty/segments.py), asked only for campaigns that
    name a segment."""
    return lambda code: segments.is_member(session, program, code, card_id, now)


def running(
    program: Program, moment: datetime, tier_code: str | None, member: MemberOf
) -> list[tuple[Campaign, Window]]:
    """The campaigns running at ``moment`` for a card at this level, in the file's order."""
    config = program_config(program)
    found = []
    for campaign in config.campaigns:
        window = campaign.window_at(moment, config.rules.timezone)
        if window is not None and applies(campaign, tier_code, member):
            found.append((campaign, window))
    return found


def award_order(
    session: Session,
    program: Program,
    rules: ProgramRules,
    card: Card,
    order: Order,
    *,
    tier_code: str | None,
    base: int,
    room: int,
    now: datetime,
    actor: str | None,
) -> list[LedgerEntry]:
    """Post what the campaigns running at the order's ``paid_at`` pay for it (``card`` locked,
    ``order`` just written with its ``base`` points); at most ``room`` points in all. Returns
    the entries posted."""
    plans: list[tuple[Campaign, Window, int]] = []
    best: tuple[Campaign, Window, int] | None = None
    member = member_of(session, program, card.id, now)
    for campaign, window in running(program, order.paid_at, tier_code, member):
        if order.eligible_minor < campaign.min_order_minor:
            continue
        if campaign.kind == "multiplier" and campaign.multiplier is not None:
            extra = int((base * (campaign.multiplier - 1)).to_integral_value(ROUND_FLOOR))
            if extra > 0 and (best is None or extra > best[2]):
                best = (campaign, window, extra)
        elif (
            campaign.points
            and order.counted
            and (
                campaign.kind == "bonus"
                or (
                    campaign.kind == "streak"
                    and _completes_streak(session, card, order, campaign, window)
                )
            )
        ):
            plans.append((campaign, window, campaign.points))
    if best is not None:
        plans.insert(0, best)
    posted: list[LedgerEntry] = []
    key = order_key(order.source, order.external_id)
    for campaign, window, wanted in plans:
        points = min(wanted, room - sum(e.points for e in posted), rules.max_points_per_entry)
        if points <= 0:
            break
        available_at, expires_at = lot_dates(
            order.paid_at, rules.hold_days, campaign.expires or rules.expiry, rules.timezone
        )
        cause = f"{CAUSE}{campaign.code}:{key}"
        entry = ledger.credit(
            session,
            card,
            kind="bonus",
            key=cause,
            points=points,
            cause=cause,
            now=now,
            available_at=available_at,
            expires_at=expires_at,
            max_points=rules.max_points_per_entry,
            order_id=order.id,
            actor=actor,
            fresh=True,  # the order is new: no key derived from it exists
        ).entry
        _grant(session, campaign, window, card, entry, order.id, now)
        posted.append(entry)
    return posted


def _grant(
    session: Session,
    campaign: Campaign,
    window: Window,
    card: Card,
    entry: LedgerEntry,
    order_id: int | None,
    now: datetime,
) -> None:
    session.flush()  # the entry's id
    session.add(
        CampaignGrant(
            program_id=card.program_id,
            campaign=campaign.code,
            occurrence=window.key,
            kind=campaign.kind,
            card_id=card.id,
            entry_id=entry.id,
            order_id=order_id,
            points=entry.points,
            points_reversed=0,
            created_at=now,
        )
    )


def _streak_orders(
    session: Session, card: Card, campaign: Campaign, window: Window, until: datetime
) -> list[datetime]:
    """paid_at of the card's counting orders in the window up to ``until``, after the order
    that completed its last streak of this occurrence, within ``within_days`` of ``until``."""
    assert campaign.within_days is not None
    last = session.execute(
        select(func.max(Order.paid_at))
        .join(CampaignGrant, CampaignGrant.order_id == Order.id)
        .where(
            CampaignGrant.card_id == card.id,
            CampaignGrant.campaign == campaign.code,
            CampaignGrant.occurrence == window.key,
        )
    ).scalar_one_or_none()
    query = select(Order.paid_at).where(
        Order.card_id == card.id,
        Order.counted.is_(True),
        Order.paid_at >= window.start,
        Order.paid_at > until - timedelta(days=campaign.within_days),
        Order.paid_at <= until,
    )
    if last is not None:
        query = query.where(Order.paid_at > last)
    return sorted(session.execute(query).scalars())


def _completes_streak(
    session: Session, card: Card, order: Order, campaign: Campaign, window: Window
) -> bool:
    assert campaign.orders is not None
    return len(_streak_orders(session, card, campaign, window, order.paid_at)) >= campaign.orders


def streak_progress(
    session: Session, program: Program, card: Card, now: datetime
) -> list[StreakProgress]:
    """For each streak running for the card: orders missing and the moment they are due by
    (the window's end, or ``within_days`` after the streak's first order)."""
    found = []
    for campaign, window in running(
        program, now, card.tier_code, member_of(session, program, card.id, now)
    ):
        if campaign.kind != "streak" or campaign.orders is None or campaign.within_days is None:
            continue
        paid = _streak_orders(session, card, campaign, window, now)
        first = paid[0] if paid else now
        by = min(window.end, first + timedelta(days=campaign.within_days))
        found.append(StreakProgress(campaign, max(campaign.orders - len(paid), 1), by))
    return found


def take_back(
    session: Session, card: Card, order: Order, *, full: bool, counting: bool, now: datetime
) -> int:
    """Reverse the order's campaign points after a refund (``card`` locked, the order's
    refunded amounts updated): a multiplier's extra pro rata (all of it when ``full``), bonus
    and streak rewards all once the order no longer ``counting``. Returns the points taken."""
    grants = session.execute(
        select(CampaignGrant).where(CampaignGrant.order_id == order.id).order_by(CampaignGrant.id)
    ).scalars()
    taken = 0
    for grant in grants:
        if grant.kind == "multiplier":
            target = (
                grant.points
                if full
                else reversal_target(
                    grant.points, order.eligible_minor, order.refunded_eligible_minor
                )
            )
        else:
            target = grant.points if full or not counting else 0
        lots = list(session.execute(select(Lot.id).where(Lot.entry_id == grant.entry_id)).scalars())
        expired = ledger.expired_points(session, lots)
        # what expired counts as given back
        points = max(max(target - expired, 0) - grant.points_reversed, 0)
        if points <= 0:
            continue
        grant.points_reversed += points
        cause = f"{CAUSE}{grant.campaign}:{order_key(order.source, order.external_id)}"
        ledger.reverse(
            session,
            card,
            key=f"{cause}:reversal:{grant.points_reversed}",
            points=points,
            cause=cause,
            now=now,
            order_id=order.id,
            prefer_lots=lots,
        )
        taken += points
    return taken


def gift_key(campaign: Campaign, window: Window, card_id: int) -> str:
    return f"{CAUSE}{campaign.code}:{window.key}:card:{card_id}"


def give_gift(
    session: Session,
    program: Program,
    campaign: Campaign,
    window: Window,
    card_id: int,
    now: datetime,
) -> bool:
    """A gift campaign's credit to one card of its audience, once per occurrence: locks the
    card, then looks for the entry, so a second job (or a racing worker) finds it and writes
    nothing. True when this call wrote it."""
    rules = program_config(program).rules
    card = ledger.lock_card(session, card_id)
    key = gift_key(campaign, window, card.id)
    if ledger.find_entry_any(session, program.id, key) is not None:
        return False
    member = member_of(session, program, card.id, now)
    if not applies(campaign, card.tier_code, member) or campaign.points is None:
        return False
    _, expires_at = lot_dates(now, 0, campaign.expires or rules.expiry, rules.timezone)
    posted = ledger.credit(
        session,
        card,
        kind="bonus",
        key=key,
        points=min(campaign.points, rules.max_points_per_entry),
        cause=key,
        now=now,
        available_at=now,
        expires_at=expires_at,
        max_points=rules.max_points_per_entry,
    )
    _grant(session, campaign, window, card, posted.entry, None, now)
    return True
