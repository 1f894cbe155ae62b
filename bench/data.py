"""Bulk datasets shared by the benchmarks and the PostgreSQL tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from walletcards.admin.bulk import write_rows
from walletcards.apple.models import AppleRegistration
from walletcards.loyalty.cards import card_values
from walletcards.loyalty.models import Card, Customer


def cards_with_devices(
    session: Session, program_id: int, count: int, now: datetime, first: int = 0
) -> dict[int, str]:
    """``count`` cards at version 2, never pushed, one registered Apple device each; returns
    card id -> the device's push token, in card order. ``first``: the number of the first
    one (emails, member numbers, devices and tokens), to add more to a programme."""
    customers = write_rows(
        session,
        Customer,
        [
            {"program_id": program_id, "email": f"c{i}@example.com", "created_at": now}
            for i in range(first, first + count)
        ],
    )
    cards = write_rows(
        session,
        Card,
        [
            card_values(program_id, customer, str(10**9 + i), now, version=2)
            for i, customer in enumerate(customers, first)
        ],
    )
    tokens = [f"{i:064x}" for i in range(first, first + count)]
    write_rows(
        session,
        AppleRegistration,
        [
            {
                "card_id": card,
                "device_library_id": f"device{first + i}",
                "push_token": tokens[i],
                "created_at": now,
                "updated_at": now,
            }
            for i, card in enumerate(cards)
        ],
    )
    return dict(zip(cards, tokens, strict=True))
