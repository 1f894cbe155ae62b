"""Concurrent erasures of one customer (two admins, two keys) erase once: one pair of consent
markers, one new card version, the same answer for both (PostgreSQL: real row locks)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.kit.programs import MakeCard
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.member_models import Consent
from walletcards.loyalty.models import Card, Program
from walletcards.rights.erasure import Erasure, erase

pytestmark = pytest.mark.postgres
ERASERS = 8


def test_concurrent_erasures_erase_once(
    database_url: str, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    card = make_card(program, email="race@example.org", name="Race Case", phone="+16135550100")
    barrier = threading.Barrier(ERASERS)

    def run(index: int) -> Erasure:
        barrier.wait()
        with (
            Database(database_url, pool_size=2, max_overflow=0) as database,
            database.transaction() as session,
        ):
            return erase(
                session, program, card.customer_id, clock.now(), actor=f"admin-{index}", key="k"
            )

    with ThreadPoolExecutor(max_workers=ERASERS) as pool:
        done = list(pool.map(run, range(ERASERS)))
    assert sum(e.created for e in done) == 1
    assert len({(e.erased_at, e.erased_by) for e in done}) == 1
    with Database(database_url) as database, database.transaction() as session:
        markers = session.execute(
            select(func.count()).select_from(Consent).where(Consent.source == "erasure")
        ).scalar_one()
        assert markers == 2
        assert session.execute(select(Card.version).where(Card.id == card.id)).scalar_one() == 2
