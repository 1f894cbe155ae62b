"""The append-only points ledger: credit, redeem and reverse (holds and expiry: ``lots``).

Every function takes a session and never commits. Each write locks the card row first
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers),
so concurrent writers to one card queue up and the balance can never be overdrawn.

Invariants kept here and checked by ``walletcards ledger verify``:
- card.available = Σ remaining of released lots; card.pending = Σ remaining of unreleased lots;
- card.available/pending/debt = Σ of the entries' deltas; none is ever negative;
- lot.remaining = lot.points - Σ draws on it; debt > 0 only while available = pending = 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from walletcards.loyalty.entries import (
    IdempotencyConflict,
    InsufficientPoints,
    LedgerError,
    LimitExceeded,
    Posted,
    apply_entry,
    find_entry,
    find_entry_any,
    input_hash,
    lock_card,
    new_entry,
)
from walletcards.loyalty.lots import (
    Balance,
    draw,
    expired_points,
    expiring_before,
    open_lots,
    plan_draw,
    settle_time,
    settled_balance,
)
from walletcards.loyalty.models import Card, LedgerEntry, Lot

__all__ = [
    "Balance",
    "IdempotencyConflict",
    "InsufficientPoints",
    "LedgerError",
    "LimitExceeded",
    "Posted",
    "credit",
    "expired_points",
    "expiring_before",
    "find_entry",
    "find_entry_any",
    "input_hash",
    "lock_card",
    "redeem",
    "reverse",
    "settle_time",
    "settled_balance",
]


def _replay_or_settle(
    session: Session, card: Card, key: str, digest: str, now: datetime
) -> Posted | None:
    """The earlier entry under ``key`` if this is a retry; otherwise bring the card's lots up
    to ``now`` (holds released, expiries written) before the new entry is planned."""
    existing = find_entry(session, card.program_id, key, digest)
    if existing is not None:
        return Posted(existing, created=False)
    settle_time(session, card, now)
    return None


def _posted(session: Session, card: Card, entry: LedgerEntry, now: datetime) -> Posted:
    apply_entry(session, card, entry, now)
    session.flush()
    return Posted(entry, created=True)


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
    fresh: bool = False,
) -> Posted:
    """Add a lot of ``points``; pending until ``available_at``. Outstanding debt is settled first.

    ``card`` must be locked (:func:`lock_card`). ``fresh=True`` says the caller has just
    settled the card and the key cannot exist yet (it derives from a row created in this
    transaction), saving two queries; the unique key still guards it. The entry is written at
    the next flush (it is batched with the caller's other writes).
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
    if not fresh:
        replay = _replay_or_settle(session, card, key, digest, now)
        if replay is not None:
            return replay
    entry = new_entry(
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
        plan = plan_draw([lot], min(card.debt, points))
        draw(session, entry, plan)
        entry.debt_delta = -sum(take for _, take in plan)
    apply_entry(session, card, entry, now)
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
    replay = _replay_or_settle(session, card, key, digest, now)
    if replay is not None:
        return replay
    if points > card.available:
        raise InsufficientPoints(f"only {card.available} points are available, not {points}")
    plan = plan_draw(open_lots(session, card.id, released_only=True, now=now), points)
    taken = sum(take for _, take in plan)
    if taken != points:  # materialised balance disagrees with lots: refuse, never overdraw
        raise InsufficientPoints(f"only {taken} points can be drawn, not {points}")
    entry = new_entry(
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
    draw(session, entry, plan)
    return _posted(session, card, entry, now)


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
    """Take back ``points`` (a refund, a cancellation): first from ``prefer_lots`` in the order
    given (the lots the cause created), then from any other lot, soonest expiry first; what
    cannot be drawn because it was already spent becomes debt, netted against future credits.
    Never negative. Callers leave out what expired (:func:`expired_points`): expired points are
    gone already and never become debt. A reversal of 0 points records that a bonus was taken
    back when all of it had expired."""
    if points < 0:
        raise LimitExceeded("a reversal cannot be negative")
    digest = input_hash(
        {"op": "reversal", "card": card.id, "points": points, "cause": cause, "order": order_id}
    )
    replay = _replay_or_settle(session, card, key, digest, now)
    if replay is not None:
        return replay
    lots = open_lots(session, card.id, released_only=False, now=now)
    rank = {lot_id: index for index, lot_id in enumerate(prefer_lots)}
    ordered = sorted((lot for lot in lots if lot.id in rank), key=lambda lot: rank[lot.id]) + [
        lot for lot in lots if lot.id not in rank
    ]
    plan = plan_draw(ordered, points)
    entry = new_entry(
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
    draw(session, entry, plan)
    entry.debt_delta = points - sum(take for _, take in plan)
    return _posted(session, card, entry, now)
