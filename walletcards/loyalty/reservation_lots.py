"""Points of a reservation coming back (:func:`give_back`): as new lots, one per lot the
reservation drew from, expiring exactly when those do; shared by the two ways back, the release
of an open reservation (an ``unreserve`` entry) and of a captured one whose order was cancelled
or wholly refunded (an ``uncapture`` entry, giving back the spend)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty.entries import apply_entry, input_hash, new_entry
from walletcards.loyalty.lots import draw, plan_draw
from walletcards.loyalty.models import Card, LedgerEntry, Lot, LotDraw
from walletcards.loyalty.redemption_models import Redemption


def give_back(
    session: Session,
    card: Card,
    redemption: Redemption,
    *,
    kind: str,
    cause: str,
    actor: str,
    now: datetime,
) -> LedgerEntry:
    """Post the entry (``kind``, key ``redemption:<id>:release``) giving the reservation's
    drawn points back to ``card`` (locked); debt standing by then is netted first, as for any
    credit. The caller settles time afterwards (points whose lot expired meanwhile expire)."""
    drawn = session.execute(
        select(LotDraw.points, Lot.available_at, Lot.expires_at, Lot.order_id)
        .join(Lot, Lot.id == LotDraw.lot_id)
        .where(LotDraw.entry_id == redemption.reserve_entry_id)
        .order_by(LotDraw.id)
    ).all()
    entry = new_entry(
        card,
        kind=kind,
        points=redemption.points,
        key=f"redemption:{redemption.id}:release",
        inputs_hash=input_hash({"op": "release", "redemption": redemption.id}),
        cause=f"release:{cause}",
        now=now,
        actor=actor,
    )
    session.add(entry)
    lots = [
        Lot(
            program_id=card.program_id,
            card_id=card.id,
            entry=entry,
            order_id=order_id,
            points=points,
            remaining=points,
            released=True,
            available_at=min(available_at, now),
            expires_at=expires_at,
        )
        for points, available_at, expires_at, order_id in drawn
    ]
    session.add_all(lots)
    entry.available_delta = sum(lot.points for lot in lots)
    if card.debt > 0:  # netted against the points coming back, as for any credit
        plan = plan_draw(lots, min(card.debt, entry.available_delta))
        draw(session, entry, plan)
        entry.debt_delta = -sum(take for _, take in plan)
    apply_entry(session, card, entry, now)
    session.flush()
    return entry
