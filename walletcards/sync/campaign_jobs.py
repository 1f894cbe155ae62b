"""The campaigns' scheduled jobs.

:func:`announce`: when a campaign's occurrence starts, and again when it ends, every card of
its audience gets a new version (one statement), so the wallets show the campaign line and
then drop it; each boundary once (``campaign_runs``).

:func:`give_gifts`: while a ``gift`` campaign runs, every card of its audience that existed
when it started gets its points, once per card and occurrence.

Cards are taken in batches by id (an anti-join on the campaign's grants), each batch in one
transaction that locks its cards in id order and looks for each gift's entry before writing
it, so a second run, or two workers racing on PostgreSQL, write each gift once (the ledger's
unique key backs it). A card enrolled after the start is not in the audience.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, false, select, update

from walletcards.db import Database, wake_workers
from walletcards.loyalty import campaigns, segments
from walletcards.loyalty.campaign_models import CampaignGrant, CampaignRun
from walletcards.loyalty.config_campaigns import Campaign, Window
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config

BATCH = 200


def give_gifts(database: Database, now: datetime) -> int:
    """Gifts written at ``now`` across every programme; safe to run twice or concurrently."""
    with database.transaction() as session:
        programs = session.execute(select(Program)).scalars().all()
    given = 0
    for program in programs:
        config = program_config(program)
        for campaign in config.campaigns:
            if campaign.kind != "gift":
                continue
            window = campaign.window_at(now, config.rules.timezone)
            if window is not None:
                given += _give(database, program, campaign, window, now)
    return given


def _give(
    database: Database, program: Program, campaign: Campaign, window: Window, now: datetime
) -> int:
    given = 0
    after = 0
    while True:
        with database.transaction() as session:
            granted = select(CampaignGrant.id).where(
                and_(
                    CampaignGrant.program_id == program.id,
                    CampaignGrant.campaign == campaign.code,
                    CampaignGrant.occurrence == window.key,
                    CampaignGrant.card_id == Card.id,
                )
            )
            query = select(Card.id).where(
                Card.program_id == program.id,
                Card.id > after,
                Card.created_at <= window.start,
                ~granted.exists(),
            )
            if campaign.tiers:
                query = query.where(Card.tier_code.in_(sorted(campaign.tiers)))
            if campaign.segment is not None:
                query = query.where(Card.id.in_(_segment(program, campaign.segment, now)))
            card_ids = list(session.execute(query.order_by(Card.id).limit(BATCH)).scalars())
            for card_id in card_ids:
                given += campaigns.give_gift(session, program, campaign, window, card_id, now)
        if len(card_ids) < BATCH:
            return given
        after = card_ids[-1]


def announce(database: Database, now: datetime) -> int:
    """Campaign starts and ends not yet shown on the cards; returns the boundaries announced."""
    with database.transaction() as session:
        programs = session.execute(select(Program)).scalars().all()
    announced = 0
    for program in programs:
        config = program_config(program)
        for campaign in config.campaigns:
            window = campaign.latest(now, config.rules.timezone)
            if window is None or window.start > now or campaign.kind == "gift":
                continue  # a gift has no line: its points change the card
            with database.transaction() as session:
                run = session.get(
                    CampaignRun, (program.id, campaign.code, window.key), with_for_update=True
                )
                if run is None:
                    run = CampaignRun(
                        program_id=program.id, campaign=campaign.code, occurrence=window.key
                    )
                    session.add(run)
                    if window.end <= now:
                        run.started_at = run.ended_at = now  # over already
                        continue
                due = run.started_at is None or (window.end <= now and run.ended_at is None)
                if not due:
                    continue
                if run.started_at is None:
                    run.started_at = now
                if window.end <= now:
                    run.ended_at = now
                audience = update(Card).where(Card.program_id == program.id)
                if campaign.tiers:
                    audience = audience.where(Card.tier_code.in_(sorted(campaign.tiers)))
                if campaign.segment is not None:
                    audience = audience.where(Card.id.in_(_segment(program, campaign.segment, now)))
                session.execute(audience.values(version=Card.version + 1, updated_at=now))
                wake_workers(session)
                announced += 1
    return announced


def _segment(program: Program, code: str, now: datetime) -> Select[tuple[int]]:
    """The card ids of a campaign's segment (loyalty/segments.py; an unknown one: nobody)."""
    try:
        return segments.members(program, code, now)
    except segments.UnknownSegment:
        return select(Card.id).where(false())
