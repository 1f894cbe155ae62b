"""What a batch of shop orders looks up once for all of them (the appliers' hot path).

Applying a paid order looks up, under the order's lock (:func:`early.lock_order`), whether it
was applied before, the reversals kept for it, and the reservations its discount codes name:
three statements per order, and a fourth to check a new card's member number is free. An
applier holding a batch of deliveries in one transaction takes every order's lock in one
statement, makes each look-up once for the batch (:func:`look_up`) and draws member numbers
for its new cards checked free together; :func:`walletcards.loyalty.awards.apply_paid` then
uses what was found instead of asking again. The locks are taken before anything is read, in
one sorted statement, and held to commit, so what was read stays true for the batch:
everything that writes an order, or keeps a reversal for it, takes the same lock first. (A
member number another transaction takes meanwhile fails the unique key: the applier then
applies the batch again one by one.)

An order named by more than one event of the batch is not looked up here (each of its events
takes its own lock and looks for itself, seeing what the one before wrote).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from walletcards.db import lock_names
from walletcards.loyalty.cards import free_member_numbers
from walletcards.loyalty.early import order_lock_name
from walletcards.loyalty.models import EarlyReversal, Order
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.reservations import MAX_CODE

OrderName = tuple[str, str]  # (source, external id)
CHUNK = 500  # names per IN list


@dataclass(frozen=True)
class Known:
    """Found for a batch's orders under their locks: ``locked`` the orders it speaks for
    (their customers' identities were locked too)."""

    locked: frozenset[OrderName] = frozenset()
    orders: dict[OrderName, Order] = field(default_factory=dict)
    kept: dict[OrderName, list[EarlyReversal]] = field(default_factory=dict)
    codes: frozenset[str] = frozenset()  # codes (upper case) that name one of its redemptions
    member_numbers: list[str] = field(default_factory=list)  # free, for its new cards

    def covers(self, source: str, external_id: str) -> bool:
        return (source, external_id) in self.locked

    def member_number(self) -> str | None:
        """A member number no card had when the batch began (None: none left, draw one)."""
        return self.member_numbers.pop() if self.member_numbers else None


def look_up(
    session: Session,
    program_id: int,
    names: Iterable[OrderName],
    codes: Iterable[str],
    new_cards: int = 0,
    identities: Iterable[str] = (),
) -> Known:
    """Lock every order named in ``names`` (all the batch's order events) and read what
    applying those named once needs: existing orders, kept reversals, which of ``codes`` name
    a redemption of the programme, and up to ``new_cards`` free member numbers (an order
    named twice looks itself up as it is applied; its lock is taken here all the same, so no
    order lock follows an identity lock). The customers' ``identities``
    (:func:`~walletcards.loyalty.customers.identity_lock_names` of every paid order's
    customer) are locked in the same statement, after the orders, as one order alone takes
    them."""
    counts = Counter(names)
    once = sorted(name for name, count in counts.items() if count == 1)
    lock_names(
        session,
        sorted(order_lock_name(program_id, *name) for name in counts) + sorted(set(identities)),
    )
    orders: dict[OrderName, Order] = {}
    kept: dict[OrderName, list[EarlyReversal]] = {}
    for start in range(0, len(once), CHUNK):
        chunk = once[start : start + CHUNK]
        found = session.execute(
            select(Order).where(
                Order.program_id == program_id,
                tuple_(Order.source, Order.external_id).in_(chunk),
            )
        ).scalars()
        orders.update(((order.source, order.external_id), order) for order in found)
        reversals = session.execute(
            select(EarlyReversal)
            .where(
                EarlyReversal.program_id == program_id,
                tuple_(EarlyReversal.source, EarlyReversal.external_id).in_(chunk),
            )
            .order_by(EarlyReversal.id)
        ).scalars()
        for row in reversals:
            kept.setdefault((row.source, row.external_id), []).append(row)
    wanted = sorted({c.strip().upper() for c in codes} - {""})
    wanted = [code for code in wanted if len(code) <= MAX_CODE]
    named: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        named.update(
            code
            for code in session.execute(
                select(Redemption.code).where(
                    Redemption.program_id == program_id,
                    Redemption.code.in_(wanted[start : start + CHUNK]),
                )
            ).scalars()
            if code is not None
        )
    numbers = free_member_numbers(session, program_id, new_cards)
    return Known(frozenset(once), orders, kept, frozenset(named), numbers)
