"""Apply one verified delivery in ONE transaction: inbox row (dedupe on the delivery id) →
each order event to loyalty.awards (paid, refund, cancel: customer, card, ledger, tier; dedupe
on the business key) → the answer recorded on the row. No network I/O.

The answer is stored on the inbox row; a repeated delivery gets it back, marked duplicate,
and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.links import card_links
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.customers import CustomerDetails
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config
from walletcards.orders.events import Delivery, OrderEvent
from walletcards.orders.models import InboxDelivery


@dataclass(frozen=True)
class Context:
    public_url: str
    now: datetime


def stored_answer(
    session: Session, program_id: int, source: str, delivery_id: str
) -> dict[str, Any] | None:
    """The answer given to an earlier delivery with this id, marked as a duplicate."""
    response = session.execute(
        select(InboxDelivery.response).where(
            InboxDelivery.program_id == program_id,
            InboxDelivery.source == source,
            InboxDelivery.delivery_id == delivery_id,
        )
    ).scalar_one_or_none()
    if response is None:
        return None
    return {**response, "status": "duplicate"}


def receive(
    session: Session, program: Program, delivery: Delivery, body: bytes, ctx: Context
) -> dict[str, Any]:
    earlier = stored_answer(session, program.id, delivery.source, delivery.delivery_id)
    if earlier is not None:
        return earlier
    row = InboxDelivery(
        program_id=program.id,
        source=delivery.source,
        shop=delivery.shop[:255],
        topic=delivery.topic[:100],
        delivery_id=delivery.delivery_id[:255],
        event_id=delivery.event_id,
        triggered_at=delivery.triggered_at,
        order_ref=delivery.events[0].order_id if delivery.events else None,
        received_at=ctx.now,
        body=body.decode("utf-8", "replace"),
        outcome="ignored",
    )
    session.add(row)
    session.flush()  # a concurrent twin of this delivery waits here, then fails the unique key
    answer, outcome, detail = _apply(session, program, delivery, ctx)
    row.outcome, row.detail, row.response = outcome, detail, answer
    return answer


def _answer(
    session: Session,
    status: str,
    card: Card | None,
    ctx: Context,
    google: bool,
    detail: str | None = None,
) -> dict[str, Any]:
    balance = ledger.settled_balance(session, card, ctx.now) if card else None
    answer: dict[str, Any] = {
        "status": status,
        "card": card_links(ctx.public_url, card.public_token, google) if card else None,
        "balance": balance._asdict() if balance else None,
    }
    if detail:
        answer["detail"] = detail
    return answer


def _apply(
    session: Session, program: Program, delivery: Delivery, ctx: Context
) -> tuple[dict[str, Any], str, str | None]:
    config = program_config(program)
    google = "google" in config.document
    if delivery.ignored_reason:
        return (
            _answer(session, "ignored", None, ctx, google, delivery.ignored_reason),
            "ignored",
            (delivery.ignored_reason),
        )
    results: list[str] = []
    card: Card | None = None
    detail = None
    for event in delivery.events:
        if event.test and not config.test_mode:
            detail = "a test order; the programme is not in test mode"
            results.append("ignored")
            continue
        done = _event(session, program, event, delivery, ctx)
        card, detail = done.card, done.detail
        results.append(done.status)
    if "applied" in results:
        status = "applied"
    elif "duplicate" in results:
        status = "duplicate"
    else:
        status = "ignored"
    outcome = "unattributed" if "unattributed" in results else status
    return (
        _answer(session, status, card, ctx, google, detail if status == "ignored" else None),
        outcome,
        detail,
    )


def _event(
    session: Session, program: Program, event: OrderEvent, delivery: Delivery, ctx: Context
) -> awards.Outcome:
    """One order event, handed to the domain (loyalty.awards) in its terms."""
    if event.kind == "paid":
        assert event.facts is not None
        info = event.customer
        customer = CustomerDetails(
            info.external_id, info.email, info.phone, info.name, info.birthday, info.locale
        )
        return awards.apply_paid(
            session, program, event.facts, customer, ctx.now, delivery.triggered_at, event.codes
        )
    apply = awards.apply_cancel if event.kind == "cancel" else awards.apply_refund
    return apply(session, program, event.source, event.order_id, event.refunds, ctx.now)
