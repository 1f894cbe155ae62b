"""Scheduled jobs: time-driven ledger changes, each of which moves card versions so phones
update. Run by the worker every minute (once cluster-wide, under a PostgreSQL advisory lock)
and by `walletcards jobs run-due [--now]`. Every job is idempotent: running it twice for the
same moment changes nothing the second time.

- holds: release held points whose return window ended; expiry: expire lots past their date;
- warnings: mark points expiring within the programme's ``warn_days`` (once per lot), which
  puts "120 points expire on 12 Dec" on the card (with a changeMessage on the pass);
- birthdays: the yearly bonus; tiers: review windowed tiers as orders leave their window;
- early reversals: forget refunds/cancellations of orders that never arrived (90 days);
- erased devices: Apple registrations of erased customers' cards, 7 days after the erasure
  (walletcards/rights/erasure.py: the phones had the voided pass pushed meanwhile);
- orders reconciled: orders the shops hold whose webhook never arrived, read back through the
  shops' admin APIs (orders/reconcile.py; when given the clients, every 15 minutes a shop);
- segments: once a day per programme, every card's RFM scores and each segment's size
  (loyalty/segments.py);
- dashboard roll-ups: the recent closed days of each programme's dashboard series rewritten
  once an hour, older days without a row filled a few at a time (admin/rollups.py);
- reservations: codes unused at their expiry released; with the clients, codes synced with the
  shops both ways (shops/code_jobs.py); customers' tier tags sent to the shops
  (shops/tier_jobs.py);
- campaigns: a running gift campaign's points to each card of its audience, once; each
  campaign's start and end put on the cards (sync/campaign_jobs.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text, update

from walletcards.admin.rollups import roll_up
from walletcards.db import Database
from walletcards.loyalty import awards, ledger, segments
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.models import Card, Customer, EarlyReversal, Lot, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.rules import birthday_in
from walletcards.loyalty.tiers import refresh_tier
from walletcards.messages.google import send_google
from walletcards.messages.sending import send_due, withdraw_expired
from walletcards.orders.reconcile import reconcile_orders
from walletcards.outbound import outbox
from walletcards.rights.erasure import forget_devices
from walletcards.shops import code_jobs, tier_jobs
from walletcards.sync.campaign_jobs import announce, give_gifts
from walletcards.sync.referral_jobs import make_friend_codes, settle_referrals

if TYPE_CHECKING:
    from walletcards.clients import Clients

log = logging.getLogger(__name__)
LOCK_KEY = 0x77616C6C65  # "walle": the jobs' cluster-wide advisory lock
EARLY_REVERSAL_DAYS = 90  # far beyond any shop's webhook retries (Shopify: 8 over 4 hours)


@contextmanager
def _cluster_lock(database: Database) -> Iterator[bool]:
    """True when this process may run the jobs now (always on SQLite: one process)."""
    if not database.is_postgres:
        yield True
        return
    with database.engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                conn.commit()


def run_due(
    database: Database, now: datetime, clients: Clients | None = None, public_url: str = ""
) -> dict[str, int]:
    """Everything due at ``now``; returns counts per job (empty when another process runs them).
    ``clients``: the outside systems, for the jobs that call them (reconciliation; without
    them it is left out), ``public_url`` for the card links its answers record."""
    with _cluster_lock(database) as mine:
        if not mine:
            return {}
        counts = {
            "holds_and_expiry": _settle(database, now),
            "referrals_settled": settle_referrals(database, now),
            "expiry_warnings": _warn(database, now),
            "birthdays": _birthdays(database, now),
            "tiers": _requalify(database, now),
            "early_reversals_forgotten": _forget_early_reversals(database, now),
            "campaign_gifts": give_gifts(database, now),
            "campaigns_announced": announce(database, now),
            "erased_devices_forgotten": forget_devices(database, now),
        }
        counts["reservations_expired"] = code_jobs.expire_reservations(database, now)
        counts["segments_scored"] = _segments(database, now)
        counts["dashboard_days_rolled_up"] = roll_up(database, now)
        counts["message_recipients"] = send_due(database, now)
        counts["messages_withdrawn"] = withdraw_expired(database, now)
        if clients is not None:
            counts["orders_reconciled"] = reconcile_orders(database, clients.shops, public_url, now)
            counts["shop_codes"] = code_jobs.sync_codes(database, clients, now)
            counts["referral_codes"] = make_friend_codes(database, clients, now)
            counts["shop_tier_tags"] = tier_jobs.sync_tier_tags(database, clients, now)
            counts["google_messages"] = send_google(database, clients, now)
    if any(counts.values()):
        log.info("jobs at %s: %s", now.isoformat(), counts)
    return counts


def _segments(database: Database, now: datetime) -> int:
    """Once a day per programme (its local date): RFM scores and the day's segment sizes."""
    scored = 0
    with database.transaction() as session:
        programs = session.execute(select(Program)).scalars().all()
    for program in programs:
        day = now.astimezone(ZoneInfo(program_rules(program).timezone)).date()
        with database.transaction() as session:
            if segments.recorded(session, program, day):
                continue
            scored += segments.score_rfm(session, program, now)
            segments.record_sizes(session, program, day, now)
    return scored


def _settle(database: Database, now: datetime) -> int:
    with database.transaction() as session:
        card_ids = (
            session.execute(
                select(Lot.card_id)
                .distinct()
                .where(
                    ((Lot.released.is_(False)) & (Lot.available_at <= now))
                    | ((Lot.remaining > 0) & (Lot.expires_at <= now))
                )
            )
            .scalars()
            .all()
        )
    written = 0
    for card_id in card_ids:
        with database.transaction() as session:
            written += len(ledger.settle_time(session, ledger.lock_card(session, card_id), now))
    return written


def _warn(database: Database, now: datetime) -> int:
    warned = 0
    with database.transaction() as session:
        programs = session.execute(select(Program)).scalars().all()
    for program in programs:
        rules = program_rules(program)
        if rules.expiry is None or rules.expiry_warn_days <= 0:
            continue
        horizon = now + timedelta(days=rules.expiry_warn_days)
        with database.transaction() as session:
            lots = session.execute(
                select(Lot.id, Lot.card_id).where(
                    Lot.program_id == program.id,
                    Lot.remaining > 0,
                    Lot.available_at <= now,
                    Lot.expires_at > now,
                    Lot.expires_at <= horizon,
                    Lot.expiry_warned_at.is_(None),
                )
            ).all()
            if not lots:
                continue
            session.execute(
                update(Lot).where(Lot.id.in_([lot.id for lot in lots])).values(expiry_warned_at=now)
            )
            for card_id in sorted({lot.card_id for lot in lots}):
                card = ledger.lock_card(session, card_id)
                card_changed(session, card, now)  # the card face now shows the warning
                points = sum(
                    session.execute(
                        select(Lot.remaining).where(
                            Lot.id.in_([lot.id for lot in lots if lot.card_id == card_id])
                        )
                    ).scalars()
                )
                outbox.emit(
                    session,
                    program,
                    card,
                    "points.expiring",
                    {"points": points, "before": horizon.isoformat()},
                    now,
                )
            warned += len(lots)
    return warned


def _birthdays(database: Database, now: datetime) -> int:
    awarded = 0
    with database.transaction() as session:
        programs = session.execute(select(Program)).scalars().all()
    for program in programs:
        rules = program_rules(program)
        if rules.birthday is None:
            continue
        today = now.astimezone(ZoneInfo(rules.timezone)).date()
        window = {today - timedelta(days=d) for d in range(awards.BIRTHDAY_GRACE_DAYS)}
        with database.transaction() as session:
            rows = session.execute(
                select(Card.id, Customer.birthday)
                .join(Customer, Customer.id == Card.customer_id)
                .where(Card.program_id == program.id, Customer.birthday.is_not(None))
            ).all()
        due = [
            card_id
            for card_id, born in rows
            if any(birthday_in(born, day.year) == day for day in window)
        ]
        for card_id in due:
            with database.transaction() as session:
                posted = awards.award_birthday(session, program, card_id, now)
                awarded += int(posted is not None and posted.created)
    return awarded


def _requalify(database: Database, now: datetime) -> int:
    """Windowed tiers (re-qualifying, or window_spend): re-check every card whose review is due
    (when the oldest order its tier needs leaves the window); returns tiers changed."""
    changed = 0
    with database.transaction() as session:
        programs = session.execute(select(Program)).scalars().all()
    for program in programs:
        rules = program_rules(program)
        if rules.tiers is None or rules.tiers.window is None:
            continue
        with database.transaction() as session:
            card_ids = (
                session.execute(
                    select(Card.id).where(Card.program_id == program.id, Card.tier_review_at <= now)
                )
                .scalars()
                .all()
            )
        for card_id in card_ids:
            with database.transaction() as session:
                card = ledger.lock_card(session, card_id)
                before = card.tier_code
                refresh_tier(session, rules, card, now, "lower")
                changed += int(card.tier_code != before)
    return changed


def _forget_early_reversals(database: Database, now: datetime) -> int:
    """Refunds and cancellations kept for orders that never arrived: after
    ``EARLY_REVERSAL_DAYS`` the order is not coming (a shop refunding orders from before the
    programme); forget them."""
    with database.transaction() as session:
        result = session.execute(
            delete(EarlyReversal).where(
                EarlyReversal.received_at < now - timedelta(days=EARLY_REVERSAL_DAYS)
            )
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
