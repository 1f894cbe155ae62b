"""A verified delivery into the inbox, and applying it. No network I/O.

- :func:`accept` (the Shopify and WooCommerce views, and the signed-JSON view under load):
  the inbox row alone, ``INSERT … ON CONFLICT DO NOTHING`` on the delivery id, outcome
  ``accepted``; an applier (orders/applier.py) applies it soon.
- :func:`receive` (the signed-JSON view when the backlog is short, ``inbox replay``, the
  reconciliation job): inbox row and :func:`apply` in ONE transaction.
- :func:`apply`: each order event to loyalty.awards (paid, refund, cancel: customer, card,
  ledger, tier; dedupe on the business key); the answer is recorded on the row. A repeated
  delivery gets the recorded answer back, marked duplicate, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from walletcards.db import wake_appliers
from walletcards.links import card_links
from walletcards.loyalty import awards, customers, ledger, order_batch, referrals
from walletcards.loyalty.customers import CustomerDetails
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config
from walletcards.orders.events import CustomerInfo, Delivery, OrderEvent
from walletcards.orders.models import InboxDelivery

WAITING = "accepted"  # the outcome of a delivery an applier has yet to apply
PARKED = "parked"  # the outcome of one that failed every attempt (inbox list shows it)


@dataclass(frozen=True)
class Context:
    public_url: str
    now: datetime


def stored(
    session: Session, program_id: int, source: str, delivery_id: str
) -> InboxDelivery | None:
    """The inbox row of an earlier delivery with this id."""
    return session.execute(
        select(InboxDelivery).where(
            InboxDelivery.program_id == program_id,
            InboxDelivery.source == source,
            InboxDelivery.delivery_id == delivery_id[:255],
        )
    ).scalar_one_or_none()


def duplicate_answer(row: InboxDelivery) -> dict[str, Any]:
    """What a repeated delivery answers: the recorded answer marked duplicate (``accepted``
    while the first one waits)."""
    if row.response is None:
        return {"status": "accepted", "card": None, "balance": None}
    return {**row.response, "status": "duplicate"}


def row_values(program_id: int, delivery: Delivery, body: bytes, now: datetime) -> dict[str, Any]:
    """An inbox row's columns from a checked delivery (orders/accepting.py adds its own)."""
    return {
        "program_id": program_id,
        "source": delivery.source,
        "shop": delivery.shop[:255],
        "topic": delivery.topic[:100],
        "delivery_id": delivery.delivery_id[:255],
        "event_id": delivery.event_id,
        "triggered_at": delivery.triggered_at,
        "order_ref": delivery.events[0].order_id if delivery.events else None,
        "received_at": now,
        "body": body.decode("utf-8", "replace"),
    }


def accept(
    session: Session, program: Program, delivery: Delivery, body: bytes, now: datetime
) -> int | None:
    """The delivery into the inbox in one statement; its row id, or None when a delivery with
    its id is there already (a repeat: nothing written). One the adapter ignores (a topic or
    an order state we do not apply) is recorded ignored at once; any other waits for an
    applier, woken at commit."""
    values = row_values(program.id, delivery, body, now)
    if delivery.ignored_reason:
        ignored = {"status": "ignored", "card": None, "balance": None}
        values.update(
            outcome="ignored",
            detail=delivery.ignored_reason,
            response={**ignored, "detail": delivery.ignored_reason},
            applied_at=now,
        )
    else:
        values["outcome"] = WAITING
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(InboxDelivery)
        .values(values)
        .on_conflict_do_nothing(index_elements=["program_id", "source", "delivery_id"])
        .returning(InboxDelivery.id)
    )
    row_id = session.execute(statement).scalar_one_or_none()
    if row_id is not None and not delivery.ignored_reason:
        wake_appliers(session)
    return row_id


def order_waiting(session: Session, program: Program, delivery: Delivery) -> bool:
    """Whether an earlier delivery of this delivery's order still waits for an applier."""
    if not delivery.events:
        return False
    return bool(
        session.execute(
            select(
                exists().where(
                    InboxDelivery.program_id == program.id,
                    InboxDelivery.source == delivery.source,
                    InboxDelivery.order_ref == delivery.events[0].order_id,
                    InboxDelivery.outcome == WAITING,
                )
            )
        ).scalar()
    )


def receive(
    session: Session, program: Program, delivery: Delivery, body: bytes, ctx: Context
) -> dict[str, Any]:
    """Record and apply the delivery in the caller's transaction; its answer."""
    earlier = stored(session, program.id, delivery.source, delivery.delivery_id)
    if earlier is not None:
        return duplicate_answer(earlier)
    row = InboxDelivery(**row_values(program.id, delivery, body, ctx.now), outcome="ignored")
    session.add(row)
    session.flush()  # a concurrent twin of this delivery waits here, then fails the unique key
    return apply(session, program, row, delivery, ctx)


Applied = tuple[dict[str, Any], str, str | None]  # answer, outcome, detail


def apply(
    session: Session, program: Program, row: InboxDelivery, delivery: Delivery, ctx: Context
) -> dict[str, Any]:
    """Apply ``delivery`` (``row``'s) and record the outcome and answer on ``row``."""
    done = applied(session, program, delivery, ctx)
    record(row, done, ctx.now)
    return done[0]


def applied(
    session: Session,
    program: Program,
    delivery: Delivery,
    ctx: Context,
    known: order_batch.Known | None = None,
) -> Applied:
    """Apply ``delivery``; what to record on its row (:func:`record`, in the same transaction:
    a batch records its rows together, in one statement). ``known``: its batch's orders,
    locked and looked up together (:func:`batch_look_up`)."""
    return _apply(session, program, delivery, ctx, known)


def batch_look_up(
    session: Session, program: Program, deliveries: Sequence[Delivery]
) -> order_batch.Known:
    """Lock the orders of ``deliveries`` (all of one programme, applied together in this
    transaction) and look them up at once, for :func:`applied`."""
    events = [event for delivery in deliveries for event in delivery.events]
    names: list[order_batch.OrderName] = []
    for event in events:  # any order named twice is left to look for itself
        named = {(event.source, event.order_id)}
        if event.facts is not None:
            named.add((event.facts.source, event.facts.external_id))
        names.extend(named)
    paid = [event for event in events if event.kind == "paid"]
    codes = [code for event in paid for code in event.codes]
    identities = [
        name
        for event in paid
        for name in customers.identity_lock_names(program, _details(event.customer))
    ]
    return order_batch.look_up(
        session, program.id, names, codes, new_cards=len(paid), identities=identities
    )


def record(row: InboxDelivery, done: Applied, now: datetime) -> None:
    row.response, row.outcome, row.detail = done
    row.applied_at, row.apply_after = now, None


def _answer(
    session: Session,
    status: str,
    card: Card | None,
    ctx: Context,
    google: bool,
    detail: str | None = None,
) -> dict[str, Any]:
    # the settled sum, not the card's kept columns: a lot credited for an old order may have
    # expired by now, which the columns count until the card is next settled
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
    session: Session,
    program: Program,
    delivery: Delivery,
    ctx: Context,
    known: order_batch.Known | None = None,
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
        done = _event(session, program, event, delivery, ctx, known)
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


def _details(info: CustomerInfo) -> CustomerDetails:
    return CustomerDetails(
        info.external_id, info.email, info.phone, info.name, info.birthday, info.locale
    )


def _event(
    session: Session,
    program: Program,
    event: OrderEvent,
    delivery: Delivery,
    ctx: Context,
    known: order_batch.Known | None,
) -> awards.Outcome:
    """One order event, handed to the domain (loyalty.awards) in its terms."""
    if event.kind == "paid":
        assert event.facts is not None
        done = awards.apply_paid(
            session,
            program,
            event.facts,
            _details(event.customer),
            ctx.now,
            delivery.triggered_at,
            event.codes,
            known,
        )
        if done.status == "applied" and done.card is not None and event.referral:
            referrals.attribute(session, program, done.card, event.referral, ctx.now, via="order")
        return done
    apply = awards.apply_cancel if event.kind == "cancel" else awards.apply_refund
    return apply(session, program, event.source, event.order_id, event.refunds, ctx.now)
