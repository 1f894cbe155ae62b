"""Settling referrals from racing workers (PostgreSQL, real threads): each referral is paid at
most once and the monthly cap holds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from tests.referrals.test_referrals import HOLD_DAYS, REFERRAL, code_of, order, post
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import referrals
from walletcards.loyalty.models import LedgerEntry
from walletcards.loyalty.referral_models import Referral
from walletcards.loyalty.verify import verify


@pytest.fixture
def wide_database(database_url: str) -> Iterator[Database]:
    with Database(database_url, pool_size=8, max_overflow=0) as db:
        yield db


@pytest.mark.postgres
def test_racing_settlements_pay_each_referral_once_within_the_cap(
    client: FlaskClient,
    wide_database: Database,
    make_program: MakeProgram,
    make_card: MakeCard,
    clock: FixedClock,
) -> None:
    shop = make_program(
        referral={**REFERRAL, "max_per_month": 2},
        webhooks={"orders_secret": ORDERS_SECRET},
        hold={"days": HOLD_DAYS},
    )
    referrer = make_card(shop, email="bob@example.com", name="Bob")
    for n in range(5):
        post(client, clock, order(clock, n, f"friend{n}@example.com", code_of(referrer)))
    with wide_database.transaction() as session:
        ids = list(session.execute(select(Referral.id).order_by(Referral.id)).scalars())
    later = clock.now() + timedelta(days=HOLD_DAYS, minutes=1)
    barrier = threading.Barrier(4)

    def work(_: int) -> Any:
        barrier.wait()
        try:
            for referral_id in ids:
                with wide_database.transaction() as session:
                    referrals.settle(session, referral_id, later)
        except BaseException as exc:  # asserted on below
            return exc
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(4)))
    assert results == [None] * 4
    with wide_database.transaction() as session:
        statuses = sorted(session.execute(select(Referral.status)).scalars())
        assert statuses == ["capped", "capped", "capped", "paid", "paid"]
        paid = session.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.cause.like("referral:%:referrer"))
        ).scalar_one()
        assert paid == 2
        assert verify(session) == []
