"""Staff adjustments: a manual correction of a card's balance, with a reason.

A positive adjustment is a ``bonus`` credit, available at once and never expiring, within the
programme's per-entry limit; a negative one is a debit that never takes the balance below 0
(:class:`~walletcards.loyalty.ledger.InsufficientPoints`). The entry names who made it and
keeps the reason as its memo. Reversing an entry instead: :mod:`walletcards.loyalty.corrections`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_rules

CAUSE_REASON = 200  # the reason's characters kept in the entry's cause


def adjust(
    session: Session,
    program: Program,
    card_id: int,
    *,
    points: int,
    reason: str,
    key: str,
    actor: str,
    now: datetime,
) -> Card:
    """Credits (``points`` > 0) or debits (< 0) the card under the ledger key ``key``; the card,
    locked for the rest of the transaction."""
    card = ledger.lock_card(session, card_id)
    cause = f"adjustment:{reason.strip()[:CAUSE_REASON]}"
    if points > 0:
        ledger.credit(
            session,
            card,
            kind="bonus",
            key=key,
            points=points,
            cause=cause,
            now=now,
            available_at=now,
            expires_at=None,
            max_points=program_rules(program).max_points_per_entry,
            actor=actor,
            memo=reason,
        )
    else:
        ledger.redeem(
            session,
            card,
            key=key,
            points=-points,
            cause=cause,
            now=now,
            actor=actor,
            memo=reason,
        )
    return card
