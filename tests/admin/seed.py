"""The hand-computed dashboard fixture's rows: cards, ledger entries, orders and lots written
straight into the tables, on dates around the switch to summer time in New York."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from walletcards.loyalty.models import Card, LedgerEntry, Lot, Order

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
RANGE = "from=2026-03-07&to=2026-03-09"
_keys = itertools.count()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def entry(card: Card, kind: str, points: int, when: str) -> LedgerEntry:
    return LedgerEntry(
        program_id=card.program_id,
        card_id=card.id,
        kind=kind,
        points=points,
        idempotency_key=f"fixture:{next(_keys)}",
        input_hash="0" * 64,
        cause="fixture",
        created_at=at(when),
    )


def order(
    card: Card, total: int, when: str, status: str = "paid", refunded: int = 0, repeat: bool = False
) -> Order:
    return Order(
        program_id=card.program_id,
        card_id=card.id,
        source="orders",
        external_id=f"o-{next(_keys)}",
        currency="USD",
        total_minor=total,
        eligible_minor=total,
        refunded_minor=refunded,
        refunded_eligible_minor=refunded,
        status=status,
        is_repeat=repeat,
        paid_at=at(when),
        created_at=at(when),
    )


def lot(card: Card, remaining: int, expires: datetime | None, source: LedgerEntry) -> Lot:
    return Lot(
        program_id=card.program_id,
        card_id=card.id,
        entry_id=source.id,
        points=max(remaining, 1),
        remaining=remaining,
        released=True,
        available_at=at("2026-03-01T00:00:00"),
        expires_at=expires,
    )
