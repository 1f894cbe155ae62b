"""The campaigns' scheduled jobs: a gift reaches each card of its audience once, however often
the job runs and however many workers race; a campaign's start and end reach the cards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.kit.programs import MakeCard, MakeProgram, reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.campaign_models import CampaignGrant
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.verify import verify
from walletcards.sync.campaign_jobs import announce, give_gifts
from walletcards.sync.jobs import run_due

ZONE = ZoneInfo("America/New_York")
GIFT = {
    "code": "winback",
    "name": "We miss you",
    "kind": "gift",
    "points": 200,
    "expires_days": 14,
    "starts": "2026-03-10",
    "ends": "2026-03-23",
}
RUNNING = datetime(2026, 3, 10, 9, 0, tzinfo=ZONE).astimezone(UTC)


def gifts(database: Database, program: Program) -> list[tuple[int, int]]:
    with database.transaction() as session:
        rows = session.execute(
            select(LedgerEntry.card_id, LedgerEntry.points)
            .where(LedgerEntry.program_id == program.id, LedgerEntry.cause.startswith("campaign:"))
            .order_by(LedgerEntry.card_id)
        ).all()
    return [(card_id, points) for card_id, points in rows]


def test_a_gift_reaches_each_card_of_its_audience_once_when_the_job_runs_twice(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(campaigns=[GIFT, {**GIFT, "code": "vip", "segment": "champions"}])
    cards = [make_card(program, email=f"g{n}@example.com") for n in range(3)]
    assert give_gifts(database, RUNNING - timedelta(hours=10)) == 0  # not started yet
    assert run_due(database, RUNNING)["campaign_gifts"] == 3
    assert run_due(database, RUNNING + timedelta(minutes=1))["campaign_gifts"] == 0
    clock.set(RUNNING + timedelta(hours=1))
    late = make_card(program, email="late@example.com")  # joined after the start: not in it
    assert give_gifts(database, clock.now()) == 0
    assert gifts(database, program) == [(card.id, 200) for card in cards]
    with database.transaction() as session:
        fresh = reload_card(session, cards[0].id)
        assert (fresh.available, reload_card(session, late.id).available) == (200, 0)
        assert verify(session) == []


def test_a_campaigns_start_and_end_give_the_cards_a_new_version_once_each(
    database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    double = {**GIFT, "code": "double", "kind": "multiplier", "multiplier": "2"}
    del double["points"]
    program = make_program(campaigns=[double])
    card = make_card(program, email="v@example.com")

    def version() -> int:
        with database.transaction() as session:
            return reload_card(session, card.id).version

    before = version()
    assert announce(database, RUNNING - timedelta(days=1)) == 0
    assert announce(database, RUNNING) == 1
    assert announce(database, RUNNING + timedelta(hours=1)) == 0
    assert version() == before + 1
    over = datetime(2026, 3, 24, 0, 0, tzinfo=ZONE).astimezone(UTC)
    assert announce(database, over) == 1
    assert announce(database, over + timedelta(days=1)) == 0
    assert version() == before + 2


@pytest.fixture
def wide_database(database_url: str) -> Iterator[Database]:
    with Database(database_url, pool_size=8, max_overflow=0) as db:
        yield db


@pytest.mark.postgres
def test_two_workers_racing_give_each_card_its_gift_once(
    wide_database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    program = make_program(campaigns=[GIFT])
    cards: list[Card] = [make_card(program, email=f"race{n}@example.com") for n in range(450)]
    barrier = threading.Barrier(4)

    def work(_: int) -> Any:
        barrier.wait()
        try:
            return give_gifts(wide_database, RUNNING)
        except BaseException as exc:  # asserted on below
            return exc

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(4)))
    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == len(cards)
    with wide_database.transaction() as session:
        per_card = session.execute(
            select(CampaignGrant.card_id, func.count())
            .group_by(CampaignGrant.card_id)
            .having(func.count() > 1)
        ).all()
        assert per_card == []
        assert session.execute(select(func.count(CampaignGrant.id))).scalar_one() == len(cards)
        assert verify(session) == []


def test_a_gift_for_a_segment_reaches_only_its_members(
    database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    program = make_program(
        segments=[{"code": "opted-in", "marketing_consent": True}],
        campaigns=[{**GIFT, "segment": "opted-in"}],
    )
    cards = [make_card(program, email=f"s{n}@example.com") for n in range(3)]
    with database.transaction() as session:
        customer = session.get(Customer, cards[1].customer_id)
        assert customer is not None
        customer.marketing_consent = True
    assert run_due(database, RUNNING)["campaign_gifts"] == 1
    assert gifts(database, program) == [(cards[1].id, 200)]
    with database.transaction() as session:
        assert verify(session) == []
