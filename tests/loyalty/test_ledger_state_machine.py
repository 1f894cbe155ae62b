"""Random sequences of earn / redeem / partial refund / cancel / expire / time advance; after
every step the ledger's invariants must hold (the same checks as `walletcards ledger verify`,
plus conservation of points, attribution of every entry to a cause, and the order count with
the every-Nth rewards it carries)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from sqlalchemy import func, select

from tests.kit.ledger_machine import CardMachine, World, run_machine
from tests.kit.programs import MakeCard
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger
from walletcards.loyalty.models import LedgerEntry, Lot, Order, Program
from walletcards.loyalty.tiers import COUNTING
from walletcards.loyalty.unlocks import held_nth_rewards

KINDS = {"earn", "bonus", "redeem", "reversal", "release", "expiry"}
MINIMUM = 100  # the demo's [earning] min_order_amount, in cents
EVERY = 5  # the demo's [every_nth] orders
ORDER_KINDS = {"earn", "reversal"}


# Thousands of units of work in one test: as savepoints of one PostgreSQL transaction they
# overflow its subtransaction cache and crawl, so this test commits for real.
@pytest.mark.committing
def test_ledger_invariants_hold_over_random_histories(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    world = World(database, program, make_card, clock)

    class LedgerMachine(CardMachine):
        def __init__(self) -> None:
            super().__init__(world, "m")

        @rule(amount=st.integers(0, 50_000) | st.integers(0, 2 * MINIMUM))
        def earn(self, amount: int) -> None:
            self.pay_order(amount)

        @rule(points=st.integers(min_value=1, max_value=3_000))
        def redeem(self, points: int) -> None:
            key = f"{self.card.id}:redeem:{next(self.keys)}"
            self.write(
                lambda s: ledger.redeem(
                    s,
                    ledger.lock_card(s, self.card.id),
                    key=key,
                    points=points,
                    cause="till",
                    now=clock.now(),
                )
            )

        @rule(
            pick=st.integers(min_value=0, max_value=50),
            amount=st.integers(1, 30_000) | st.integers(1, MINIMUM),
        )
        def partial_refund(self, pick: int, amount: int) -> None:
            self.reverse_order(pick, amount, cancel=False)

        @rule(pick=st.integers(min_value=0, max_value=50))
        def cancel(self, pick: int) -> None:
            self.reverse_order(pick, 0, cancel=True)

        @rule(days=st.sampled_from([1, 7, 13, 14, 15, 29, 30, 31, 90, 181, 200]))
        def advance_time(self, days: int) -> None:
            clock.advance(timedelta(days=days))

        @rule()
        def expire(self) -> None:
            self.settle_time()

        @invariant()
        def balances_hold(self) -> None:
            with database.transaction() as session:
                card = self.checked_card(session)
                assert card.debt == 0 or card.available + card.pending == 0
                # Conservation: what the card holds net of debt is credits minus debits.
                by_kind = dict(
                    session.execute(
                        select(LedgerEntry.kind, func.sum(LedgerEntry.points))
                        .where(LedgerEntry.card_id == card.id)
                        .group_by(LedgerEntry.kind)
                    )
                    .tuples()
                    .all()
                )
                credited = by_kind.get("earn", 0) + by_kind.get("bonus", 0)
                debited = sum(by_kind.get(k, 0) for k in ("redeem", "expiry", "reversal"))
                assert card.available + card.pending - card.debt == credited - debited
                lots = session.execute(
                    select(func.coalesce(func.sum(Lot.points), 0)).where(Lot.card_id == card.id)
                ).scalar_one()
                assert lots == credited
                # Attribution: every entry names its cause; order entries point at their order.
                for kind, cause, order_id in session.execute(
                    select(LedgerEntry.kind, LedgerEntry.cause, LedgerEntry.order_id).where(
                        LedgerEntry.card_id == card.id
                    )
                ):
                    assert kind in KINDS and cause
                    if kind in ORDER_KINDS:
                        assert order_id is not None
                orders = list(
                    session.execute(select(Order).where(Order.card_id == card.id)).scalars()
                )
                for order in orders:
                    assert 0 <= order.points_reversed <= order.base_points + order.bonus_points
                # The order count (welcome, tiers, every-Nth) is exactly the orders that still
                # count: not cancelled or refunded, and at the minimum net of refunds.
                assert card.paid_orders == sum(order.counted for order in orders)
                for order in orders:
                    left = order.eligible_minor - order.refunded_eligible_minor
                    assert not order.counted or (order.status in COUNTING and left >= MINIMUM)
                # Every-Nth rewards follow the count: one held per full N counting orders.
                held = held_nth_rewards(session, card)
                assert len(held) == card.paid_orders // EVERY

    run_machine(LedgerMachine, max_examples=60)
