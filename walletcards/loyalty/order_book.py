"""The shop orders a programme has applied, by the shop's id: the key their entries derive
from, finding one, locking one with its card, what applying an order event did, and the errors
of applying one. Shared by :mod:`~walletcards.loyalty.awards` (paid orders) and
:mod:`~walletcards.loyalty.refunds` (refunds and cancellations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from walletcards.loyalty.entries import LedgerError
from walletcards.loyalty.models import Card, Order


class OrderRejected(LedgerError):
    code = "order_rejected"
    status = 422


class UnknownOrder(LedgerError):
    code = "unknown_order"
    status = 404


@dataclass(frozen=True)
class Outcome:
    """What one shop event did to its order: ``status`` as the webhook answers it (or
    "unattributed": nobody to award), the card concerned, and why nothing was applied."""

    status: Literal["applied", "duplicate", "ignored", "unattributed"]
    card: Card | None = None
    detail: str | None = None


def order_key(source: str, external_id: str) -> str:
    return f"{source}:order:{external_id}"


def _named(program_id: int, source: str, external_id: str) -> ColumnElement[bool]:
    return and_(
        Order.program_id == program_id, Order.source == source, Order.external_id == external_id
    )


def find_order(session: Session, program_id: int, source: str, external_id: str) -> Order | None:
    return session.execute(
        select(Order).where(_named(program_id, source, external_id))
    ).scalar_one_or_none()


def lock_with_card(
    session: Session, program_id: int, source: str, external_id: str
) -> tuple[Card, Order] | None:
    """The order and its card, both locked and read afresh (the card first, as every writer to
    a card locks it); None when the order is unknown. Two statements: the card is found through
    the order, and the order is read under the card's lock, so it is current."""
    card_id = select(Order.card_id).where(_named(program_id, source, external_id))
    card = session.execute(
        select(Card)
        .where(Card.id == card_id.scalar_subquery())
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if card is None:
        return None
    order = session.execute(
        select(Order)
        .where(_named(program_id, source, external_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return card, order
