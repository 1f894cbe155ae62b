"""Reservations under real threads on PostgreSQL: one balance is never over-reserved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.kit.programs import reload_card
from tests.loyalty.test_concurrency import WRITERS, race
from tests.loyalty.test_ledger import give
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger, reservations
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.verify import verify

pytestmark = pytest.mark.postgres


@pytest.fixture
def wide_database(database_url: str) -> Iterator[Database]:
    with Database(database_url, pool_size=WRITERS, max_overflow=0) as db:
        yield db


def test_fifty_concurrent_reservations_never_over_reserve(
    wide_database: Database, database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 1000, "g")  # room for 10 reservations of 100

    def reserve(index: int) -> int:
        with wide_database.transaction() as session:
            made = reservations.reserve(
                session,
                program,
                reload_card(session, card.id),
                100,
                channel="api",
                reference=None,
                actor="test",
                key=f"race-{index}",
                now=clock.now(),
            )
            return made.id

    outcomes = race(WRITERS, reserve)
    made = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, ledger.InsufficientPoints)]
    assert len(made) == 10 and len(refused) == WRITERS - 10, outcomes
    with database.transaction() as session:
        assert reload_card(session, card.id).available == 0
        held = session.execute(select(func.sum(Redemption.points))).scalar_one()
        assert held == 1000
        assert verify(session) == []
