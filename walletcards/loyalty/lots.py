"""Lots over time: drawing points from lots, releasing holds, expiring, and what expires when."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from walletcards.loyalty.entries import apply_entry, input_hash, new_entry
from walletcards.loyalty.models import Card, LedgerEntry, Lot, LotDraw

Plan = list[tuple[Lot, int]]


def plan_draw(lots: Iterable[Lot], wanted: int) -> Plan:
    """Which lots give how much of ``wanted`` points, in the order given."""
    plan: Plan = []
    left = wanted
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            plan.append((lot, take))
            left -= take
    return plan


def draw(session: Session, entry: LedgerEntry, plan: Plan) -> None:
    """Take the planned points from their lots, move the entry's deltas and record each draw."""
    for lot, take in plan:
        lot.remaining -= take
        if lot.released:
            entry.available_delta -= take
        else:
            entry.pending_delta -= take
        session.add(LotDraw(entry=entry, lot=lot, points=take))


def open_lots(session: Session, card_id: int, *, released_only: bool, now: datetime) -> list[Lot]:
    """Lots with points left, soonest expiry first (never-expiring last), then oldest."""
    query = select(Lot).where(Lot.card_id == card_id, Lot.remaining > 0)
    if released_only:
        query = query.where(
            Lot.released.is_(True), (Lot.expires_at.is_(None)) | (Lot.expires_at > now)
        )
    query = query.order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.id)
    return list(session.execute(query).scalars())


def settle_time(session: Session, card: Card, now: datetime) -> list[LedgerEntry]:
    """Release lots whose hold ended, then expire lots past ``expires_at``: one entry per lot.

    Idempotent (keys derive from the lot id); run lazily before every write and by the jobs."""
    due = list(
        session.execute(
            select(Lot)
            .where(
                Lot.card_id == card.id,
                ((Lot.released.is_(False)) & (Lot.available_at <= now))
                | ((Lot.remaining > 0) & (Lot.expires_at <= now)),
            )
            .order_by(Lot.id)
        ).scalars()
    )
    written: list[LedgerEntry] = []
    for lot in due:
        if lot.released or lot.available_at > now:
            continue
        lot.released = True
        if lot.remaining == 0:
            continue
        entry = new_entry(
            card,
            kind="release",
            points=lot.remaining,
            key=f"lot:{lot.id}:release",
            inputs_hash=input_hash({"op": "release", "lot": lot.id}),
            cause=f"hold:lot:{lot.id}",
            now=now,
            order_id=lot.order_id,
        )
        entry.available_delta, entry.pending_delta = lot.remaining, -lot.remaining
        session.add(entry)
        apply_entry(session, card, entry, now)
        written.append(entry)
    for lot in due:
        if lot.remaining == 0 or lot.expires_at is None or lot.expires_at > now:
            continue
        entry = new_entry(
            card,
            kind="expiry",
            points=lot.remaining,
            key=f"lot:{lot.id}:expiry",
            inputs_hash=input_hash({"op": "expiry", "lot": lot.id}),
            cause=f"expiry:lot:{lot.id}",
            now=now,
            order_id=lot.order_id,
        )
        session.add(entry)
        draw(session, entry, [(lot, lot.remaining)])
        apply_entry(session, card, entry, now)
        written.append(entry)
    if written:
        session.flush()
    return written


def expiring_before(
    session: Session, program_id: int, before: datetime, now: datetime, card_id: int | None = None
) -> list[tuple[int, int, datetime]]:
    """(card id, points, soonest expiry) for spendable points that expire before ``before``."""
    query = (
        select(Lot.card_id, func.sum(Lot.remaining), func.min(Lot.expires_at))
        .where(
            Lot.program_id == program_id,
            Lot.remaining > 0,
            Lot.available_at <= now,  # spendable by now, even before the release job ran
            Lot.expires_at > now,
            Lot.expires_at < before,
        )
        .group_by(Lot.card_id)
        .order_by(Lot.card_id)
    )
    if card_id is not None:
        query = query.where(Lot.card_id == card_id)
    rows = session.execute(query).all()
    return [(int(card), int(points), expires) for card, points, expires in rows]


class Balance(NamedTuple):
    available: int
    pending: int


def settled_balance(session: Session, card: Card, now: datetime) -> Balance:
    """The card's balance as it stands at ``now``, whether or not a write or the scheduled job
    has settled it yet: points whose hold ended are available, expired points are gone. Every
    read that shows a balance uses this; it writes nothing (settling is left to writers)."""
    spendable = Lot.released.is_(True) | (Lot.available_at <= now)
    available, pending = session.execute(
        select(
            func.coalesce(func.sum(case((spendable, Lot.remaining), else_=0)), 0),
            func.coalesce(func.sum(case((spendable, 0), else_=Lot.remaining)), 0),
        ).where(
            Lot.card_id == card.id,
            Lot.remaining > 0,
            Lot.expires_at.is_(None) | (Lot.expires_at > now),
        )
    ).one()
    return Balance(int(available), int(pending))


def expired_points(session: Session, lot_ids: Sequence[int]) -> int:
    """Points of these lots that expired unspent: gone already, so a reversal never takes them
    again (only points that were spent can become debt)."""
    if not lot_ids:
        return 0
    return int(
        session.execute(
            select(func.coalesce(func.sum(LotDraw.points), 0))
            .join(LedgerEntry, LedgerEntry.id == LotDraw.entry_id)
            .where(LotDraw.lot_id.in_(lot_ids), LedgerEntry.kind == "expiry")
        ).scalar_one()
    )
