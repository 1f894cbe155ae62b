"""What RFM needs of a card's orders, kept on the card (``cards.last_order_at``,
``orders_count``, ``spend_minor``): of its live orders (status not ``cancelled``) the latest
``paid_at``, how many, and ``total_minor - refunded_minor`` summed.

:func:`refresh` recounts one card from its orders (a few rows through ``ix_orders_card_paid_at``)
and is called wherever an order is written (loyalty/awards.py) or refunded / cancelled
(loyalty/refunds.py), in the same transaction; :data:`BACKFILL` recounts every card at once
(migration 0025, the benchmark); ``ledger verify`` compares them with the orders
(:func:`mismatched`).
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, Order

_SPEND = func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0)

# every card with a live order, in one statement (the others keep their defaults)
BACKFILL = """
UPDATE cards SET last_order_at = facts.last_at, orders_count = facts.n, spend_minor = facts.spend
FROM (SELECT card_id, MAX(paid_at) AS last_at, COUNT(*) AS n,
             SUM(total_minor - refunded_minor) AS spend
      FROM orders WHERE status <> 'cancelled' GROUP BY card_id) AS facts
WHERE cards.id = facts.card_id
"""


def refresh(session: Session, card: Card) -> None:
    """Recount the card's order facts from its orders (pending changes flushed first)."""
    session.flush()
    last_at, count, spend = session.execute(
        select(func.max(Order.paid_at), func.count(), _SPEND).where(
            Order.card_id == card.id, Order.status != "cancelled"
        )
    ).one()
    card.last_order_at = last_at
    card.orders_count = int(count)
    card.spend_minor = int(spend)


def first_order(card: Card, order: Order) -> None:
    """The facts of a card made in this transaction, ``order`` its only order: what
    :func:`refresh` would count, without the query."""
    live = order.status != "cancelled"
    card.last_order_at = order.paid_at if live else None
    card.orders_count = int(live)
    card.spend_minor = order.total_minor - order.refunded_minor if live else 0


def mismatched(program_id: int | None) -> Select[tuple[int]]:
    """The cards (of a programme, or all) whose kept facts differ from their orders."""
    live = Order.status != "cancelled"
    if program_id is not None:
        live = and_(live, Order.program_id == program_id)
    facts = (
        select(
            Order.card_id,
            func.max(Order.paid_at).label("last_at"),
            func.count().label("n"),
            _SPEND.label("spend"),
        )
        .where(live)
        .group_by(Order.card_id)
        .subquery()
    )
    query = (
        select(Card.id)
        .outerjoin(facts, facts.c.card_id == Card.id)
        .where(
            or_(
                Card.last_order_at.is_distinct_from(facts.c.last_at),
                Card.orders_count != func.coalesce(facts.c.n, 0),
                Card.spend_minor != func.coalesce(facts.c.spend, 0),
            ),
        )
        .order_by(Card.id)
    )
    return query if program_id is None else query.where(Card.program_id == program_id)
