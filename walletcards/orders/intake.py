"""Apply one verified delivery in ONE transaction: inbox row (dedupe on the delivery id) →
customer and card → ledger via loyalty.awards (dedupe on the business key). No network I/O.

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
from walletcards.loyalty import awards, early, ledger
from walletcards.loyalty.cards import issue_card
from walletcards.loyalty.customers import CustomerDetails, find_or_create_customer
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.rules import OrderFacts, eligible_minor
from walletcards.orders.events import Delivery, OrderEvent, RefundInfo
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
        if event.kind == "paid":
            outcome, card, detail = _paid(session, program, event, delivery, ctx)
        else:
            outcome, card, detail = _reversal(session, program, event, ctx)
        results.append(outcome)
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


def _paid(
    session: Session, program: Program, event: OrderEvent, delivery: Delivery, ctx: Context
) -> tuple[str, Card | None, str | None]:
    assert event.facts is not None
    early.lock_order(session, program.id, event.source, event.order_id)
    existing = awards.find_order(session, program.id, event.source, event.order_id)
    if existing is not None:
        return "duplicate", session.get(Card, existing.card_id), None
    if early.voided(session, program.id, event.source, event.order_id, event.facts.total_minor):
        return "ignored", None, "the order was cancelled or refunded before it was paid"
    if not event.customer.identifiable:
        return "unattributed", None, "the order names no customer and no email: no points"
    info = event.customer
    customer, created = find_or_create_customer(
        session,
        program,
        CustomerDetails(
            info.external_id, info.email, info.phone, info.name, info.birthday, info.locale
        ),
        ctx.now,
        delivery.triggered_at,
    )
    card = issue_card(session, program, customer, ctx.now, new=created)
    award = awards.award_paid_order(session, program, card.id, event.facts, ctx.now)
    if award.created:
        early.apply_kept(session, program, award.order, ctx.now)
    return ("applied" if award.created else "duplicate"), card, None


def _refund_amounts(
    program: Program, event: OrderEvent, refund: RefundInfo, now: datetime
) -> tuple[int, int | None]:
    """(refunded in total, refunded of the eligible part) for one refund; the eligible part of
    a bare amount is pro rata to the order, None while the order is not known yet."""
    if refund.amount_minor is not None:
        return refund.amount_minor, None
    rules = program_config(program).rules
    facts = OrderFacts(
        event.source,
        event.order_id,
        program.currency,
        now,  # not used: only the lines say what was refunded
        refund.lines,
        refund.shipping_minor,
        refund.tax_minor,
    )
    return facts.total_minor, eligible_minor(rules.earning, facts)


def _reversal(
    session: Session, program: Program, event: OrderEvent, ctx: Context
) -> tuple[str, Card | None, str | None]:
    early.lock_order(session, program.id, event.source, event.order_id)
    order = awards.find_order(session, program.id, event.source, event.order_id)
    reversals: list[tuple[str, int, int | None, bool]] = [  # key, total, eligible, cancel
        (refund.key, *_refund_amounts(program, event, refund, ctx.now), False)
        for refund in event.refunds
    ]
    if event.kind == "cancel":
        reversals.append((f"{event.source}:order:{event.order_id}:cancel", 0, 0, True))
    if order is None:  # not seen yet: kept, and applied if and when the order arrives
        kept = [
            early.remember(
                session,
                program.id,
                source=event.source,
                external_id=event.order_id,
                key=key,
                kind="cancel" if cancel else "refund",
                refunded_minor=total,
                refunded_eligible_minor=eligible,
                now=ctx.now,
            )
            for key, total, eligible, cancel in reversals
        ]
        # nothing to apply yet ("ignored"), but nothing is lost either
        detail = "the order has not been seen yet: kept, and applied when it arrives"
        return ("ignored" if any(kept) else "duplicate"), None, detail
    created = False
    for key, total, eligible, cancel in reversals:
        result = awards.reverse_order(
            session,
            program,
            source=event.source,
            external_id=event.order_id,
            key=key,
            refunded_minor=total,
            refunded_eligible_minor=(
                early.pro_rata_eligible(order, total) if eligible is None else eligible
            ),
            cancel=cancel,
            now=ctx.now,
        )
        created = created or result.created
    card = session.get(Card, order.card_id)
    return ("applied" if created else "duplicate"), card, None
