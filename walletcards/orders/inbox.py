"""Operator tools over the inbox: list what arrived, the appliers' backlog, retry a parked
delivery, replay a delivery.

A replay runs the stored body through the same adapter and intake under a new delivery id
(its signature was verified when it arrived; its shop must still be the one the programme
pins, which the order's identity is built from), so the business keys still dedupe:
replaying an applied order changes nothing; replaying one that was unattributed or a test
order, after fixing the cause, applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import webhook_shop
from walletcards.orders import intake
from walletcards.orders.events import Delivery, Verified
from walletcards.orders.intake import PARKED, WAITING
from walletcards.orders.models import InboxDelivery
from walletcards.orders.sources import SOURCES, parse_delivery


def recent(session: Session, program: Program | None, limit: int) -> list[InboxDelivery]:
    query = select(InboxDelivery).order_by(InboxDelivery.id.desc()).limit(limit)
    if program is not None:
        query = query.where(InboxDelivery.program_id == program.id)
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class Backlog:
    waiting: int  # accepted, not applied yet
    due: int  # of which an applier may take now (the others back off after a failure)
    parked: int  # failed every attempt: `inbox retry` or `inbox replay` after a fix
    oldest: datetime | None  # when the oldest waiting delivery arrived


def backlog(session: Session, now: datetime) -> Backlog:
    waiting = InboxDelivery.outcome == WAITING
    due = waiting & or_(InboxDelivery.apply_after.is_(None), InboxDelivery.apply_after <= now)
    row = session.execute(
        select(
            func.count().filter(waiting),
            func.count().filter(due),
            func.min(InboxDelivery.received_at).filter(waiting),
        ).where(InboxDelivery.outcome == WAITING)
    ).one()
    parked = session.execute(
        select(func.count()).where(InboxDelivery.outcome == PARKED)
    ).scalar_one()
    return Backlog(row[0], row[1], parked, row[2])


def retry(session: Session, row_id: int) -> None:
    """A parked delivery back in the queue, its attempts reset."""
    row = session.get(InboxDelivery, row_id)
    if row is None or row.outcome != PARKED:
        raise LookupError(f"no parked inbox delivery {row_id}")
    row.outcome, row.attempts, row.apply_after = WAITING, 0, None


def stored_delivery(
    row: InboxDelivery, program: Program, delivery_id: str | None = None
) -> tuple[Delivery, bytes]:
    """``row``'s delivery read again from its body (it was verified when it arrived)."""
    source = SOURCES[row.source]
    kept_id = delivery_id or row.delivery_id
    kept = Delivery(row.source, row.shop, row.topic, kept_id, row.event_id, row.triggered_at)
    body = row.body.encode()
    verified = Verified(source.replay_headers(kept), body)
    delivery = parse_delivery(source, verified, program.currency, webhook_shop(program, row.source))
    return replace(delivery, delivery_id=kept_id), body


def replay(session: Session, row_id: int, ctx: intake.Context) -> dict[str, Any]:
    row = session.get(InboxDelivery, row_id)
    if row is None:
        raise LookupError(f"no inbox delivery {row_id}")
    program = session.get(Program, row.program_id)
    assert program is not None
    # within the column's 255 characters, whatever the original id's length
    delivery_id = f"{row.delivery_id[:200]}:replay:{int(ctx.now.timestamp())}"
    delivery, body = stored_delivery(row, program, delivery_id)
    if row.outcome == PARKED:  # replayed after a fix: no longer the operator's to-do
        row.outcome, row.detail = "replayed", f"replayed as {delivery_id}"
    return intake.receive(session, program, delivery, body, ctx)
