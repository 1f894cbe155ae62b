"""Real threads against PostgreSQL (SQLite serialises writers and would hide races)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from tests.kit.programs import reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.models import Card, LedgerEntry, LotDraw, Order, Program
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.loyalty.verify import verify

pytestmark = pytest.mark.postgres
WRITERS = 50
T = TypeVar("T")


def race(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` in ``count`` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(index)
        except BaseException as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def wide_database(database_url: str) -> Iterator[Database]:
    with Database(database_url, pool_size=WRITERS, max_overflow=0) as db:
        yield db


def test_fifty_writers_with_one_idempotency_key_post_exactly_one_entry(
    wide_database: Database, card: Card, clock: FixedClock
) -> None:
    now = clock.now()

    def credit(_: int) -> int:
        with wide_database.transaction() as session:
            posted = ledger.credit(
                session,
                ledger.lock_card(session, card.id),
                kind="bonus",
                key="same-key",
                points=100,
                cause="race",
                now=now,
                available_at=now,
                expires_at=None,
                max_points=1000,
            )
        return posted.entry.id  # set at the flush of the commit

    results = race(WRITERS, credit)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    with wide_database.transaction() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 1
        assert reload_card(session, card.id).available == 100


def test_fifty_redemptions_racing_one_balance_never_overdraw(
    wide_database: Database, card: Card, clock: FixedClock
) -> None:
    now = clock.now()
    with wide_database.transaction() as session:
        ledger.credit(
            session,
            ledger.lock_card(session, card.id),
            kind="bonus",
            key="seed",
            points=1000,
            cause="seed",
            now=now,
            available_at=now,
            expires_at=None,
            max_points=1000,
        )

    def redeem(index: int) -> int:
        with wide_database.transaction() as session:
            ledger.redeem(
                session,
                ledger.lock_card(session, card.id),
                key=f"r{index}",
                points=30,
                cause="till",
                now=now,
            )
        return 30

    results = race(WRITERS, redeem)
    succeeded = [r for r in results if r == 30]
    refused = [r for r in results if isinstance(r, ledger.InsufficientPoints)]
    assert len(succeeded) == 33 and len(refused) == WRITERS - 33, results
    with wide_database.transaction() as session:
        card_now = reload_card(session, card.id)
        drawn = session.execute(select(func.sum(LotDraw.points))).scalar_one()
        assert card_now.available == 1000 - 33 * 30 == 10
        assert drawn == 33 * 30
        assert verify(session) == []


def test_the_same_order_applied_by_fifty_writers_earns_once(
    wide_database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    facts = OrderFacts("orders", "race-1", "USD", clock.now(), (OrderLine(10000),))

    def apply(_: int) -> bool:
        with wide_database.transaction() as session:
            return awards.award_paid_order(session, program, card.id, facts, clock.now()).created

    results = race(WRITERS, apply)
    assert results.count(True) == 1 and results.count(False) == WRITERS - 1, results
    with wide_database.transaction() as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 1
        assert reload_card(session, card.id).pending == 500 + 300


def test_refunds_racing_redemptions_never_go_negative(
    wide_database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    for number in range(5):
        facts = OrderFacts("orders", f"o{number}", "USD", clock.now(), (OrderLine(10000),))
        with wide_database.transaction() as session:
            awards.award_paid_order(session, program, card.id, facts, clock.now())
    clock.advance(timedelta(days=15))
    now = clock.now()

    def work(index: int) -> str:
        with wide_database.transaction() as session:
            if index % 2:
                ledger.redeem(
                    session,
                    ledger.lock_card(session, card.id),
                    key=f"r{index}",
                    points=150,
                    cause="till",
                    now=now,
                )
            else:
                awards.reverse_order(
                    session,
                    program,
                    source="orders",
                    external_id=f"o{index % 5}",
                    key=f"f{index}",
                    refunded_minor=1000,
                    refunded_eligible_minor=1000,
                    cancel=False,
                    now=now,
                )
        return "ok"

    results = race(20, work)
    assert all(r == "ok" or isinstance(r, ledger.InsufficientPoints) for r in results), results
    with wide_database.transaction() as session:
        final = reload_card(session, card.id)
        assert min(final.available, final.pending, final.debt) >= 0
        assert verify(session) == []
