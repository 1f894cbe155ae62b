"""Random interleavings of reserve / capture / release with earn / refund / cancel / expire and
time passing: `ledger verify` (reservations included) stays clean after every step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.kit.programs import MakeCard, reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards, ledger, reservations
from walletcards.loyalty.models import Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.loyalty.verify import verify


# Thousands of units of work in one test: as savepoints of one PostgreSQL transaction they
# overflow its subtransaction cache and crawl, so this test commits for real.
@pytest.mark.committing
def test_reservations_keep_the_ledger_consistent(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    serial = count()

    class ReservationMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.card = make_card(program, email=f"r{next(serial)}@example.com")
            self.orders: list[str] = []
            self.held: list[int] = []
            self.keys = count()

        def _write(self, fn: Callable[[Session], Any]) -> None:
            try:
                with database.transaction() as session:
                    fn(session)
            except ledger.LedgerError:
                pass  # refused: must change nothing (the invariant checks)

        @rule(amount=st.integers(100, 50_000))
        def earn(self, amount: int) -> None:
            order_id = f"{self.card.id}-{len(self.orders)}"
            self.orders.append(order_id)
            facts = OrderFacts("orders", order_id, "USD", clock.now(), (OrderLine(amount),))
            self._write(
                lambda s: awards.award_paid_order(s, program, self.card.id, facts, clock.now())
            )

        @rule(points=st.integers(100, 3_000))
        def reserve(self, points: int) -> None:
            key = f"{self.card.id}:{next(self.keys)}"

            def run(session: Session) -> None:
                card = reload_card(session, self.card.id)
                made = reservations.reserve(
                    session,
                    program,
                    card,
                    points,
                    channel="api",
                    reference=None,
                    actor="test",
                    key=key,
                    now=clock.now(),
                )
                self.held.append(made.id)

            self._write(run)

        def _each(self, pick: int, action: Callable[[Session, Redemption], Any]) -> None:
            if not self.held:
                return
            redemption_id = self.held[pick % len(self.held)]

            def run(session: Session) -> None:
                found = session.get(Redemption, redemption_id)
                assert found is not None
                action(session, found)

            self._write(run)

        @rule(pick=st.integers(0, 50))
        def capture(self, pick: int) -> None:
            self._each(
                pick,
                lambda s, r: reservations.capture(
                    s, r, order_ref="o", actor="test", now=clock.now()
                ),
            )

        @rule(pick=st.integers(0, 50), cause=st.sampled_from(["api", "expired"]))
        def release(self, pick: int, cause: str) -> None:
            self._each(
                pick,
                lambda s, r: reservations.release(s, r, cause=cause, actor="t", now=clock.now()),
            )

        @rule(pick=st.integers(0, 50), cancel=st.booleans(), amount=st.integers(1, 30_000))
        def refund(self, pick: int, cancel: bool, amount: int) -> None:
            if not self.orders:
                return
            order_id = self.orders[pick % len(self.orders)]
            key = f"{order_id}:refund:{next(self.keys)}"
            self._write(
                lambda s: awards.reverse_order(
                    s,
                    program,
                    source="orders",
                    external_id=order_id,
                    key=key,
                    refunded_minor=amount,
                    refunded_eligible_minor=amount,
                    cancel=cancel,
                    now=clock.now(),
                )
            )

        @rule(days=st.sampled_from([1, 8, 15, 31, 181, 200]))
        def advance_time(self, days: int) -> None:
            clock.advance(timedelta(days=days))

        @rule()
        def expire(self) -> None:
            self._write(
                lambda s: ledger.settle_time(s, ledger.lock_card(s, self.card.id), clock.now())
            )

        @invariant()
        def verify_is_clean(self) -> None:
            with database.transaction() as session:
                card = reload_card(session, self.card.id)
                assert verify(session, program.slug) == []
                assert min(card.available, card.pending, card.debt) >= 0
                open_points = sum(
                    session.execute(
                        select(Redemption.points).where(
                            Redemption.card_id == card.id, Redemption.status == "reserved"
                        )
                    ).scalars()
                )
                assert open_points >= 0

    run_state_machine_as_test(
        ReservationMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
