"""Staff corrections: reversing one ledger entry, once.

- A credit that no order owns (a manual adjustment, an imported opening balance, a birthday
  bonus) is taken back by a ``reversal`` entry drawn from that credit's own lot first; points
  already spent become debt, netted against later credits (never a negative balance); points
  that expired are gone already and are not taken again.
- A redemption is undone by a ``restore`` entry: a new lot of the same points that expires no
  later than the latest lot the redemption drew from.
- Points that an order earned are taken back by refunding or cancelling the order in the shop
  (the refund webhook reverses them pro rata); reversing them here as well would take them
  twice, so they are refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty import ledger
from walletcards.loyalty.entries import LedgerError
from walletcards.loyalty.models import Card, LedgerEntry, Lot, LotDraw

CREDITS = ("earn", "bonus")


class NotReversible(LedgerError):
    code = "not_reversible"
    status = 409


def reversal_key(entry: LedgerEntry) -> str:
    return f"reverse-entry:{entry.id}"


def reverse_entry(
    session: Session,
    card: Card,
    entry: LedgerEntry,
    *,
    reason: str,
    actor: str,
    now: datetime,
    max_points: int,
) -> ledger.Posted:
    """``card`` must be locked and own ``entry``."""
    key = reversal_key(entry)
    if ledger.find_entry_any(session, card.program_id, key) is not None:
        raise NotReversible(f"entry {entry.id} has already been reversed")
    cause = f"reversal-of:{entry.id}"
    if entry.kind in CREDITS and entry.order_id is None:
        own_lots = list(session.execute(select(Lot.id).where(Lot.entry_id == entry.id)).scalars())
        ledger.settle_time(session, card, now)  # what expired by now is gone, not taken again
        return ledger.reverse(
            session,
            card,
            key=key,
            points=max(entry.points - ledger.expired_points(session, own_lots), 0),
            cause=cause,
            now=now,
            order_id=None,
            prefer_lots=own_lots,
            actor=actor,
            memo=reason,
        )
    if entry.kind in CREDITS:
        raise NotReversible(
            "points earned by an order are taken back by refunding or cancelling the order"
        )
    if entry.kind == "redeem":
        expiries = list(
            session.execute(
                select(Lot.expires_at)
                .join(LotDraw, LotDraw.lot_id == Lot.id)
                .where(LotDraw.entry_id == entry.id)
            ).scalars()
        )
        expires_at = None if not expiries or None in expiries else max(e for e in expiries if e)
        return ledger.credit(
            session,
            card,
            kind="restore",
            key=key,
            points=entry.points,
            cause=cause,
            now=now,
            available_at=now,
            expires_at=expires_at,
            max_points=max(max_points, entry.points),  # giving back what was taken
            actor=actor,
            memo=reason,
        )
    raise NotReversible(f"a {entry.kind} entry cannot be reversed")
