"""The dashboard's top customers: by net spend (total - refunded) of their orders paid in the
range, cancelled ones left out.

Over a long range that is a sum per member of up to a million orders. A card's spend in any
range is at most its lifetime spend, kept on the card (``cards.spend_minor``,
loyalty/order_facts.py: its live orders' ``total_minor - refunded_minor``, each at least 0 as
a refund never exceeds the total). So the ranking first looks at the ``tries`` cards of largest
lifetime spend only (``ix_cards_program_spend``): when its tenth member spent in the range
more than the largest lifetime spend left out, no card left out can reach the list and the
answer is exact; otherwise (a short range, few big spenders in it) it ranks every order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.admin.period import Period
from walletcards.loyalty.models import Card, Customer, Order

TOP = 10
TRIES = (100, 2000)  # cards of largest lifetime spend looked at before ranking every order


@dataclass(frozen=True)
class TopCustomer:
    member_number: str
    name: str | None
    email: str | None
    orders: int
    spend_minor: int
    available: int
    tier: str | None


def top_customers(
    session: Session, program_id: int, period: Period, tries: Sequence[int] = TRIES
) -> list[TopCustomer]:
    for size in tries:
        biggest = session.execute(
            select(Card.id, Card.spend_minor)
            .where(Card.program_id == program_id)
            .order_by(Card.spend_minor.desc())
            .limit(size + 1)
        ).all()
        if len(biggest) <= size:
            break  # every card is in: rank them all
        found = _ranked(session, program_id, period, [row[0] for row in biggest[:size]])
        if len(found) == TOP and found[-1].spend_minor > biggest[-1][1]:
            return found
    return _ranked(session, program_id, period, None)


def _ranked(
    session: Session, program_id: int, period: Period, card_ids: list[int] | None
) -> list[TopCustomer]:
    spend = func.sum(Order.total_minor - Order.refunded_minor)
    query = (
        select(Order.card_id, func.count().label("orders"), spend.label("spend"))
        .where(
            Order.program_id == program_id,
            Order.paid_at >= period.start,
            Order.paid_at < period.end,
            Order.status != "cancelled",
        )
        .group_by(Order.card_id)
        .order_by(spend.desc(), Order.card_id)
        .limit(TOP)
    )
    if card_ids is not None:
        query = query.where(Order.card_id.in_(card_ids))
    ranked = query.subquery()
    rows = session.execute(
        select(
            Card.member_number,
            Customer.name,
            Customer.email,
            ranked.c.orders,
            ranked.c.spend,
            Card.available,
            Card.tier_code,
        )
        .join(Card, Card.id == ranked.c.card_id)
        .join(Customer, Customer.id == Card.customer_id)
        .order_by(ranked.c.spend.desc(), Card.id)
    ).all()
    return [TopCustomer(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), r[6]) for r in rows]
