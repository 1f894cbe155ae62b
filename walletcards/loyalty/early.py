"""Refunds and cancellations that arrive before their order (shops deliver webhooks in no set
order, and retry them): kept, and applied when the paid order arrives. A cancelled (or wholly
refunded) order then earns nothing at all, so no order ends up paid with points after its
cancellation was acknowledged.

The paid order and its reversals are serialised by a lock named after the order (a PostgreSQL
advisory lock; SQLite serialises writers anyway), so a cancellation racing its order is either
kept before the order is looked at or finds the order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.db import lock_names
from walletcards.loyalty import awards
from walletcards.loyalty.models import EarlyReversal, Order, Program


def lock_order(session: Session, program_id: int, source: str, external_id: str) -> None:
    """Serialise everything that applies to one shop order (its payment and its reversals)."""
    lock_names(session, [f"order:{program_id}:{source}:{external_id}"])


def remember(
    session: Session,
    program_id: int,
    *,
    source: str,
    external_id: str,
    key: str,
    kind: Literal["refund", "cancel"],
    refunded_minor: int,
    refunded_eligible_minor: int | None,
    now: datetime,
) -> bool:
    """Keep a reversal of an order not seen yet; False if it was kept before (same key)."""
    kept = session.execute(
        select(EarlyReversal.id).where(
            EarlyReversal.program_id == program_id, EarlyReversal.idempotency_key == key
        )
    ).first()
    if kept is not None:
        return False
    session.add(
        EarlyReversal(
            program_id=program_id,
            source=source,
            external_id=external_id,
            idempotency_key=key,
            kind=kind,
            refunded_minor=refunded_minor,
            refunded_eligible_minor=refunded_eligible_minor,
            received_at=now,
        )
    )
    return True


def _kept(session: Session, program_id: int, source: str, external_id: str) -> list[EarlyReversal]:
    return list(
        session.execute(
            select(EarlyReversal)
            .where(
                EarlyReversal.program_id == program_id,
                EarlyReversal.source == source,
                EarlyReversal.external_id == external_id,
            )
            .order_by(EarlyReversal.id)
        ).scalars()
    )


def voided(
    session: Session, program_id: int, source: str, external_id: str, total_minor: int
) -> bool:
    """Whether the order was cancelled, or refunded in full, before it arrived."""
    kept = _kept(session, program_id, source, external_id)
    return any(row.kind == "cancel" for row in kept) or (
        bool(kept) and sum(row.refunded_minor for row in kept) >= total_minor
    )


def apply_kept(session: Session, program: Program, order: Order, now: datetime) -> int:
    """Apply the refunds kept for ``order`` (just awarded), once each; returns how many."""
    kept = _kept(session, program.id, order.source, order.external_id)
    for row in kept:
        eligible = row.refunded_eligible_minor
        if eligible is None:
            eligible = pro_rata_eligible(order, row.refunded_minor)
        awards.reverse_order(
            session,
            program,
            source=order.source,
            external_id=order.external_id,
            key=row.idempotency_key,
            refunded_minor=row.refunded_minor,
            refunded_eligible_minor=eligible,
            cancel=row.kind == "cancel",
            now=now,
        )
        session.delete(row)
    return len(kept)


def pro_rata_eligible(order: Order, refunded_minor: int) -> int:
    """The eligible part of a refund given only as an amount: pro rata to the order's total."""
    if not order.total_minor:
        return 0
    return refunded_minor * order.eligible_minor // order.total_minor
