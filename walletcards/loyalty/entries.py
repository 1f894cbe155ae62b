"""Ledger primitives: errors, idempotency look-ups, the card lock, and one entry's effect.

Used by :mod:`walletcards.loyalty.ledger` (credits and debits) and
:mod:`walletcards.loyalty.lots` (holds and expiry); callers outside import from ``ledger``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards import metrics
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.models import Card, LedgerEntry, Program
from walletcards.outbound import outbox


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


def new_entry(
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


def apply_entry(session: Session, card: Card, entry: LedgerEntry, now: datetime) -> None:
    """Move the card's balance by the entry's deltas, and everything that follows from it: the
    card changed (a push), the outbox's ``points.changed``, the entry counted at commit."""
    card.available += entry.available_delta
    card.pending += entry.pending_delta
    card.debt += entry.debt_delta
    card_changed(session, card, now)
    program = session.get(Program, card.program_id)
    assert program is not None
    outbox.entry_posted(session, program, card, entry)
    metrics.count_entry(session, entry.kind)
