"""Operator tools over the inbox: list what arrived, replay a delivery.

A replay runs the stored body through the same adapter and intake under a new delivery id
(its signature was verified when it arrived; its shop must still be the one the programme
pins, which the order's identity is built from), so the business keys still dedupe:
replaying an applied order changes nothing; replaying one that was unattributed or a test
order, after fixing the cause, applies it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import webhook_shop
from walletcards.orders import intake
from walletcards.orders.events import Delivery, Verified
from walletcards.orders.models import InboxDelivery
from walletcards.orders.sources import SOURCES, parse_delivery


def recent(session: Session, program: Program | None, limit: int) -> list[InboxDelivery]:
    query = select(InboxDelivery).order_by(InboxDelivery.id.desc()).limit(limit)
    if program is not None:
        query = query.where(InboxDelivery.program_id == program.id)
    return list(session.execute(query).scalars())


def replay(session: Session, row_id: int, ctx: intake.Context) -> dict[str, Any]:
    row = session.get(InboxDelivery, row_id)
    if row is None:
        raise LookupError(f"no inbox delivery {row_id}")
    program = session.get(Program, row.program_id)
    assert program is not None
    source = SOURCES[row.source]
    # within the column's 255 characters, whatever the original id's length
    delivery_id = f"{row.delivery_id[:200]}:replay:{int(ctx.now.timestamp())}"
    kept = Delivery(row.source, row.shop, row.topic, delivery_id, row.event_id, row.triggered_at)
    body = row.body.encode()
    verified = Verified(source.replay_headers(kept), body)  # verified when it arrived
    delivery = parse_delivery(source, verified, program.currency, webhook_shop(program, row.source))
    return intake.receive(session, program, replace(delivery, delivery_id=delivery_id), body, ctx)
