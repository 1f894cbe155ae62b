"""Refunds and cancellations that arrive before their order (shops deliver webhooks in no set
order, and retry them): kept, and applied when the paid order arrives. A cancelled (or wholly
refunded) order then earns nothing at all, so no order ends up paid with points after its
cancellation was acknowledged. Kept and found here; applied by
:func:`walletcards.loyalty.refunds.apply_kept`.

The paid order and its reversals are serialised by a lock named after the order (a PostgreSQL
advisory lock; SQLite serialises writers anyway), so a cancellation racing its order is either
kept before the order is looked at or finds the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.db import lock_names
from walletcards.loyalty.models import EarlyReversal


def order_lock_name(program_id: int, source: str, external_id: str) -> str:
    return f"order:{program_id}:{source}:{external_id}"


def lock_order(session: Session, program_id: int, source: str, external_id: str) -> None:
    """Serialise everything that applies to one shop order (its payment and its reversals);
    an applier's batch takes its orders' locks together (loyalty/order_batch.py)."""
    lock_names(session, [order_lock_name(program_id, source, external_id)])


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


def kept(session: Session, program_id: int, source: str, external_id: str) -> list[EarlyReversal]:
    """The reversals kept for an order not seen yet, in the order they arrived."""
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


def voided(kept: Sequence[EarlyReversal], total_minor: int) -> bool:
    """Whether the reversals ``kept`` for an order cancelled it, or refunded it in full."""
    return any(row.kind == "cancel" for row in kept) or (
        bool(kept) and sum(row.refunded_minor for row in kept) >= total_minor
    )
