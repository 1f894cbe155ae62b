"""Random interleavings of reserve / capture / release with earn / refund / cancel / expire and
time passing: `ledger verify` (reservations included) stays clean after every step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.kit.ledger_machine import CardMachine, World, run_machine
from tests.kit.programs import MakeCard, reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import reservations
from walletcards.loyalty.models import Program
from walletcards.loyalty.redemption_models import Redemption


# Thousands of units of work in one test: as savepoints of one PostgreSQL transaction they
# overflow its subtransaction cache and crawl, so this test commits for real.
@pytest.mark.committing
def test_reservations_keep_the_ledger_consistent(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    world = World(database, program, make_card, clock)

    class ReservationMachine(CardMachine):
        def __init__(self) -> None:
            super().__init__(world, "r")
            self.held: list[int] = []

        @rule(amount=st.integers(100, 50_000))
        def earn(self, amount: int) -> None:
            self.pay_order(amount)

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

            self.write(run)

        def _each(self, pick: int, action: Callable[[Session, Redemption], Any]) -> None:
            if not self.held:
                return
            redemption_id = self.held[pick % len(self.held)]

            def run(session: Session) -> None:
                found = session.get(Redemption, redemption_id)
                assert found is not None
                action(session, found)

            self.write(run)

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
            self.reverse_order(pick, amount, cancel)

        @rule(days=st.sampled_from([1, 8, 15, 31, 181, 200]))
        def advance_time(self, days: int) -> None:
            clock.advance(timedelta(days=days))

        @rule()
        def expire(self) -> None:
            self.settle_time()

        @invariant()
        def verify_is_clean(self) -> None:
            with database.transaction() as session:
                card = self.checked_card(session)
                open_points = sum(
                    session.execute(
                        select(Redemption.points).where(
                            Redemption.card_id == card.id, Redemption.status == "reserved"
                        )
                    ).scalars()
                )
                assert open_points >= 0

    run_machine(ReservationMachine, max_examples=30)
