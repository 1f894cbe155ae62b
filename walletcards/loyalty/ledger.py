"""The append-only points ledger: credit, redeem, reverse, release and expire.

Every function takes a session and never commits. Each write locks the card row first
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers),
so concurrent writers to one card queue up and the balance can never be overdrawn.

Invariants kept here and checked by ``walletcards ledger verify``:
- card.available = Σ remaining of released lots; card.pending = Σ remaining of unreleased lots;
- card.available/pending/debt = Σ of the entries' deltas; none is ever negative;
- lot.remaining = lot.points - Σ draws on it; debt > 0 only while available = pending = 0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, LedgerEntry, Lot, LotDraw


class LedgerError(Exception):
    """A refused ledger operation; ``code`` is the API error code. Nothing has been written."""

    code = "ledger_error"
    status = 409


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"


class InsufficientPoints(LedgerError):
    code = "insufficient_points"
    status = 422


class LimitExceeded(LedgerError):
    code = "limit_exceeded"
    status = 422


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool


def input_hash(inputs: dict[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_card(session: Session, card_id: int) -> Card:
    """The card row, locked for the rest of the transaction (serialises writers to one card)."""
    card = session.execute(
        select(Card)
        .where(Card.id == card_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return card


def find_entry_any(session: Session, program_id: int, key: str) -> LedgerEntry | None:
    """The entry posted under ``key``, whatever its inputs."""
    return session.execute(
        select(LedgerEntry).where(
            LedgerEntry.program_id == program_id, LedgerEntry.idempotency_key == key
        )
    ).scalar_one_or_none()


def find_entry(session: Session, program_id: int, key: str, inputs_hash: str) -> LedgerEntry | None:
    """The entry already posted under ``key`` (same inputs), None if new; conflict otherwise."""
    entry = find_entry_any(session, program_id, key)
    if entry is not None and entry.input_hash != inputs_hash:
        raise IdempotencyConflict(f"idempotency key {key!r} was already used with different inputs")
    return entry


def _new_entry(
    card: Card,
    *,
    kind: str,
    points: int,
    key: str,
    inputs_hash: str,
    cause: str,
    now: datetime,
    order_id: int | None = None,
    actor: str | None = None,
    memo: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        program_id=card.program_id,
        card_id=card.id,
        kind=kind,
        points=points,
        available_delta=0,
        pending_delta=0,
        debt_delta=0,
        idempotency_key=key,
        input_hash=inputs_hash,
        cause=cause,
        order_id=order_id,
        actor=actor,
        memo=memo,
        created_at=now,
    )


def _apply(card: Card, entry: LedgerEntry, now: datetime) -> None:
    card.available += entry.available_delta
    card.pending += entry.pending_delta
    card.debt += entry.debt_delta
    card.version += 1
    card.updated_at = now


Plan = list[tuple[Lot, int]]


def _plan(lots: Iterable[Lot], wanted: int) -> Plan:
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


def _draw(session: Session, entry: LedgerEntry, plan: Plan) -> None:
    """Take the planned points from their lots, move the entry's deltas and record each draw."""
    for lot, take in plan:
        lot.remaining -= take
        if lot.released:
            entry.available_delta -= take
        else:
            entry.pending_delta -= take
        session.add(LotDraw(entry=entry, lot=lot, points=take))


def _open_lots(session: Session, card_id: int, *, released_only: bool, now: datetime) -> list[Lot]:
    """Lots with points left, soonest expiry first (never-expiring last), then oldest."""
    query = select(Lot).where(Lot.card_id == card_id, Lot.remaining > 0)
    if released_only:
        query = query.where(
            Lot.released.is_(True), (Lot.expires_at.is_(None)) | (Lot.expires_at > now)
        )
    query = query.order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.id)
    return list(session.execute(query).scalars())


def credit(
    session: Session,
    card: Card,
    *,
    kind: str,
    key: str,
    points: int,
    cause: str,
    now: datetime,
    available_at: datetime,
    expires_at: datetime | None,
    max_points: int,
    order_id: int | None = None,
    actor: str | None = None,
    memo: str | None = None,
) -> Posted:
    """Add a lot of ``points``; pending until ``available_at``. Outstanding debt is settled first.

    ``card`` must be locked (:func:`lock_card`).
    """
    if points <= 0:
        raise LimitExceeded("a credit must be at least 1 point")
    if points > max_points:
        raise LimitExceeded(
            f"{points} points is above the programme's limit of {max_points} per entry"
        )
    digest = input_hash(
        {
            "op": kind,
            "card": card.id,
            "points": points,
            "cause": cause,
            "order": order_id,
            "available_at": available_at,
            "expires_at": expires_at,
        }
    )
    existing = find_entry(session, card.program_id, key, digest)
    if existing is not None:
        return Posted(existing, created=False)
    settle_time(session, card, now)
    entry = _new_entry(
        card,
        kind=kind,
        points=points,
        key=key,
        inputs_hash=digest,
        cause=cause,
        now=now,
        order_id=order_id,
        actor=actor,
        memo=memo,
    )
    released = available_at <= now
    lot = Lot(
        program_id=card.program_id,
        card_id=card.id,
        entry=entry,
        order_id=order_id,
        points=points,
        remaining=points,
        released=released,
        available_at=available_at,
        expires_at=expires_at,
    )
    if released:
        entry.available_delta = points
    else:
        entry.pending_delta = points
    session.add_all([entry, lot])
    if card.debt > 0:
        # Debt from an earlier over-reversal is netted against new points (FACTS: ledger practice).
        plan = _plan([lot], min(card.debt, points))
        _draw(session, entry, plan)
        entry.debt_delta = -sum(take for _, take in plan)
    _apply(card, entry, now)
    session.flush()
    return Posted(entry, created=True)


def redeem(
    session: Session,
    card: Card,
    *,
    key: str,
    points: int,
    cause: str,
    now: datetime,
    actor: str | None = None,
    memo: str | None = None,
) -> Posted:
    """Spend available points, soonest-expiring lots first. Never overdraws."""
    if points <= 0:
        raise InsufficientPoints("redeem at least 1 point")
    digest = input_hash({"op": "redeem", "card": card.id, "points": points, "cause": cause})
    existing = find_entry(session, card.program_id, key, digest)
    if existing is not None:
        return Posted(existing, created=False)
    settle_time(session, card, now)
    if points > card.available:
        raise InsufficientPoints(f"only {card.available} points are available, not {points}")
    plan = _plan(_open_lots(session, card.id, released_only=True, now=now), points)
    taken = sum(take for _, take in plan)
    if taken != points:  # materialised balance disagrees with lots: refuse, never overdraw
        raise InsufficientPoints(f"only {taken} points can be drawn, not {points}")
    entry = _new_entry(
        card,
        kind="redeem",
        points=points,
        key=key,
        inputs_hash=digest,
        cause=cause,
        now=now,
        actor=actor,
        memo=memo,
    )
    session.add(entry)
    _draw(session, entry, plan)
    _apply(card, entry, now)
    session.flush()
    return Posted(entry, created=True)


def reverse(
    session: Session,
    card: Card,
    *,
    key: str,
    points: int,
    cause: str,
    now: datetime,
    order_id: int | None,
    prefer_lots: Sequence[int] = (),
    actor: str | None = None,
    memo: str | None = None,
) -> Posted:
    """Take back ``points`` (a refund, a cancellation): first from ``prefer_lots`` (the lots the
    cause created), then from any other lot, soonest expiry first; what cannot be drawn because
    it was already spent becomes debt, netted against future credits. Never negative."""
    if points <= 0:
        raise LimitExceeded("a reversal must be at least 1 point")
    digest = input_hash(
        {"op": "reversal", "card": card.id, "points": points, "cause": cause, "order": order_id}
    )
    existing = find_entry(session, card.program_id, key, digest)
    if existing is not None:
        return Posted(existing, created=False)
    settle_time(session, card, now)
    lots = _open_lots(session, card.id, released_only=False, now=now)
    preferred = set(prefer_lots)
    ordered = [lot for lot in lots if lot.id in preferred] + [
        lot for lot in lots if lot.id not in preferred
    ]
    plan = _plan(ordered, points)
    entry = _new_entry(
        card,
        kind="reversal",
        points=points,
        key=key,
        inputs_hash=digest,
        cause=cause,
        now=now,
        order_id=order_id,
        actor=actor,
        memo=memo,
    )
    session.add(entry)
    _draw(session, entry, plan)
    entry.debt_delta = points - sum(take for _, take in plan)
    _apply(card, entry, now)
    session.flush()
    return Posted(entry, created=True)


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
        entry = _new_entry(
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
        _apply(card, entry, now)
        written.append(entry)
    for lot in due:
        if lot.remaining == 0 or lot.expires_at is None or lot.expires_at > now:
            continue
        entry = _new_entry(
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
        _draw(session, entry, [(lot, lot.remaining)])
        _apply(card, entry, now)
        written.append(entry)
    if written:
        session.flush()
    return written


def expiring_before(
    session: Session, program_id: int, before: datetime, now: datetime
) -> list[tuple[int, int, datetime]]:
    """(card id, points, soonest expiry) for spendable points that expire before ``before``."""
    rows = session.execute(
        select(Lot.card_id, func.sum(Lot.remaining), func.min(Lot.expires_at))
        .where(
            Lot.program_id == program_id,
            Lot.remaining > 0,
            Lot.expires_at > now,
            Lot.expires_at < before,
        )
        .group_by(Lot.card_id)
        .order_by(Lot.card_id)
    ).all()
    return [(int(card_id), int(points), expires) for card_id, points, expires in rows]


def card_lots(session: Session, card_id: int) -> list[Lot]:
    return list(
        session.execute(select(Lot).where(Lot.card_id == card_id).order_by(Lot.id)).scalars()
    )
