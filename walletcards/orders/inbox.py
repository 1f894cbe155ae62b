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
from walletcards.orders.dispatch import parse_source
from walletcards.orders.models import InboxDelivery
from walletcards.orders.payload import parse_json


def recent(session: Session, program: Program | None, limit: int) -> list[InboxDelivery]:
    query = select(InboxDelivery).order_by(InboxDelivery.id.desc()).limit(limit)
    if program is not None:
        query = query.where(InboxDelivery.program_id == program.id)
    return list(session.execute(query).scalars())


def _headers(row: InboxDelivery, delivery_id: str) -> dict[str, str]:
    if row.source == "shopify":
        return {
            "x-shopify-topic": row.topic,
            "x-shopify-shop-domain": row.shop,
            "x-shopify-webhook-id": delivery_id,
            "x-shopify-event-id": row.event_id or "",
            "x-shopify-triggered-at": row.triggered_at.isoformat() if row.triggered_at else "",
        }
    return {
        "x-wc-webhook-topic": row.topic,
        "x-wc-webhook-source": row.shop,
        "x-wc-webhook-delivery-id": delivery_id,
        "x-wc-webhook-id": row.event_id or "",
    }


def replay(session: Session, row_id: int, ctx: intake.Context) -> dict[str, Any]:
    row = session.get(InboxDelivery, row_id)
    if row is None:
        raise LookupError(f"no inbox delivery {row_id}")
    program = session.get(Program, row.program_id)
    assert program is not None
    # within the column's 255 characters, whatever the original id's length
    delivery_id = f"{row.delivery_id[:200]}:replay:{int(ctx.now.timestamp())}"
    body = row.body.encode()
    delivery = parse_source(
        row.source,
        _headers(row, delivery_id),
        parse_json(body),
        program.currency,
        webhook_shop(program, row.source),
    )
    return intake.receive(session, program, replace(delivery, delivery_id=delivery_id), body, ctx)
