"""Top customers: looking at the largest lifetime spenders first gives exactly the ranking of
every order, on random orders (refunds, cancellations, ties) and ranges short and long."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from bench.dashboard import captured
from tests.admin.seed import order
from tests.kit.programs import MakeCard
from walletcards.admin.period import Period
from walletcards.admin.top_customers import top_customers
from walletcards.db import Database
from walletcards.loyalty import order_facts
from walletcards.loyalty.models import Card, Program

ZONE = "America/New_York"
PERIODS = [
    Period(date(2026, 3, 1), date(2026, 3, 1), ZONE),
    Period(date(2026, 3, 1), date(2026, 3, 10), ZONE),
    Period(date(2026, 1, 1), date(2026, 3, 31), ZONE),
]


def _seed(database: Database, cards: list[Card], rng: random.Random, big: int) -> None:
    """Random orders in March; the first ``big`` cards spend far more on 1 March."""
    with database.transaction() as session:
        for n, card in enumerate(cards):
            row = session.get(Card, card.id)
            assert row is not None
            if n < big:
                session.add(order(row, 100_000 + n, "2026-03-01T17:00:00"))
            for _ in range(rng.randrange(0, 4)):
                day = date(2026, 3, 1) + timedelta(days=rng.randrange(20))
                total = rng.choice((500, 1000, 2500, rng.randrange(100, 9000)))
                status = rng.choice(("paid", "paid", "partially_refunded", "refunded", "cancelled"))
                refunded = {"partially_refunded": total // 2, "refunded": total}.get(status, 0)
                session.add(
                    order(row, total, f"{day}T{rng.randrange(24):02d}:30:00", status, refunded)
                )
            order_facts.refresh(session, row)


@pytest.mark.parametrize("seed", range(4))
def test_the_largest_spenders_first_give_the_same_ranking_as_every_order(
    database: Database, program: Program, make_card: MakeCard, seed: int
) -> None:
    rng = random.Random(seed)
    cards = [make_card(program, email=f"t{seed}-{i}@example.com") for i in range(30)]
    _seed(database, cards, rng, big=seed * 4)
    with database.transaction() as session:
        for period in PERIODS:
            every = top_customers(session, program.id, period, tries=())
            assert every, period
            for tries in ((3,), (3, 12), (20,), (40,)):
                assert top_customers(session, program.id, period, tries) == every


def test_a_long_range_with_big_spenders_never_ranks_every_order(
    database: Database, program: Program, make_card: MakeCard
) -> None:
    cards = [make_card(program, email=f"b{i}@example.com") for i in range(30)]
    _seed(database, cards, random.Random(9), big=12)
    with captured(database.engine) as statements, database.transaction() as session:
        found = top_customers(session, program.id, PERIODS[2], tries=(12,))
    assert len(found) == 10 and all(c.spend_minor > 100_000 for c in found)
    with database.transaction() as session:
        assert found == top_customers(session, program.id, PERIODS[2], tries=())
    grouped = [sql for sql, _ in statements if "GROUP BY orders.card_id" in sql]
    assert grouped and all("orders.card_id IN" in sql for sql in grouped)
