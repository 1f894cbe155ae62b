from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.kit.programs import reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card, LedgerEntry, Lot, LotDraw
from walletcards.loyalty.verify import verify

DAY = timedelta(days=1)


def give(
    database: Database,
    card: Card,
    clock: FixedClock,
    points: int,
    key: str,
    *,
    hold: int = 0,
    expires: int | None = None,
) -> ledger.Posted:
    now = clock.now()
    with database.transaction() as session:
        locked = ledger.lock_card(session, card.id)
        return ledger.credit(
            session,
            locked,
            kind="bonus",
            key=key,
            points=points,
            cause=f"test:{key}",
            now=now,
            available_at=now + hold * DAY,
            expires_at=None if expires is None else now + (hold + expires) * DAY,
            max_points=10_000,
        )


def spend(
    database: Database, card: Card, clock: FixedClock, points: int, key: str
) -> ledger.Posted:
    with database.transaction() as session:
        locked = ledger.lock_card(session, card.id)
        return ledger.redeem(session, locked, key=key, points=points, cause="till", now=clock.now())


def take_back(database: Database, card: Card, clock: FixedClock, points: int, key: str) -> None:
    with database.transaction() as session:
        locked = ledger.lock_card(session, card.id)
        ledger.reverse(
            session, locked, key=key, points=points, cause="refund", now=clock.now(), order_id=None
        )


def balance(database: Database, card: Card) -> tuple[int, int, int]:
    with database.transaction() as session:
        fresh = reload_card(session, card.id)
        return fresh.available, fresh.pending, fresh.debt


def assert_verified(database: Database) -> None:
    with database.transaction() as session:
        assert verify(session) == []


def test_same_key_same_inputs_returns_the_original_entry(
    database: Database, card: Card, clock: FixedClock
) -> None:
    first = give(database, card, clock, 100, "k1")
    again = give(database, card, clock, 100, "k1")
    assert first.created and not again.created
    assert again.entry.id == first.entry.id
    assert balance(database, card) == (100, 0, 0)


def test_same_key_other_inputs_is_a_conflict_and_writes_nothing(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "k1")
    with pytest.raises(ledger.IdempotencyConflict):
        give(database, card, clock, 999, "k1")
    assert balance(database, card) == (100, 0, 0)


def test_credit_above_the_entry_limit_is_refused(
    database: Database, card: Card, clock: FixedClock
) -> None:
    with pytest.raises(ledger.LimitExceeded, match="10000"):
        give(database, card, clock, 10_001, "millionaire")
    assert balance(database, card) == (0, 0, 0)


def test_held_points_are_pending_until_the_hold_ends(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 80, "held", hold=14)
    assert balance(database, card) == (0, 80, 0)
    with pytest.raises(ledger.InsufficientPoints):
        spend(database, card, clock, 1, "too-early")
    clock.advance(14 * DAY)
    spend(database, card, clock, 30, "after-hold")  # the release happens lazily, then the spend
    assert balance(database, card) == (50, 0, 0)
    assert_verified(database)


def test_redeem_consumes_soonest_expiring_lots_first_and_records_draws(
    database: Database, card: Card, clock: FixedClock
) -> None:
    late = give(database, card, clock, 100, "late", expires=300).entry
    never = give(database, card, clock, 100, "never").entry
    soon = give(database, card, clock, 100, "soon", expires=30).entry
    redemption = spend(database, card, clock, 150, "r1").entry
    with database.transaction() as session:
        drawn = dict(
            session.execute(
                select(Lot.entry_id, LotDraw.points)
                .join(LotDraw, LotDraw.lot_id == Lot.id)
                .where(LotDraw.entry_id == redemption.id)
            )
            .tuples()
            .all()
        )
    assert drawn == {soon.id: 100, late.id: 50}
    assert never.id not in drawn


def test_redeeming_more_than_available_is_refused_and_writes_nothing(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "k")
    with pytest.raises(ledger.InsufficientPoints, match="only 100"):
        spend(database, card, clock, 101, "r")
    assert balance(database, card) == (100, 0, 0)
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 1


def test_expiry_writes_one_entry_per_lot_remainder(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "a", expires=30)
    give(database, card, clock, 50, "b", expires=30)
    give(database, card, clock, 20, "c")
    spend(database, card, clock, 120, "r")  # takes all of a (soonest, then id) and 20 of b
    clock.advance(31 * DAY)
    with database.transaction() as session:
        locked = ledger.lock_card(session, card.id)
        written = ledger.settle_time(session, locked, clock.now())
        again = ledger.settle_time(session, locked, clock.now())
    assert [(e.kind, e.points) for e in written] == [("expiry", 30)]
    assert again == []
    assert balance(database, card) == (20, 0, 0)
    assert_verified(database)


def test_expired_points_cannot_be_spent_even_before_the_job_runs(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "a", expires=30)
    clock.advance(30 * DAY)
    with pytest.raises(ledger.InsufficientPoints):
        spend(database, card, clock, 1, "late")
    assert_verified(database)


def test_reversal_of_spent_points_becomes_debt_netted_against_next_credit(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "earn")
    spend(database, card, clock, 90, "spend")
    take_back(database, card, clock, 100, "refund")
    assert balance(database, card) == (0, 0, 90)
    give(database, card, clock, 50, "next", hold=14)
    assert balance(database, card) == (0, 0, 40)
    give(database, card, clock, 70, "more")
    assert balance(database, card) == (30, 0, 0)
    assert_verified(database)


def test_every_change_bumps_the_card_version(
    database: Database, card: Card, clock: FixedClock
) -> None:
    versions = [card.version]
    give(database, card, clock, 10, "a")
    with database.transaction() as session:
        versions.append(reload_card(session, card.id).version)
    spend(database, card, clock, 5, "b")
    with database.transaction() as session:
        versions.append(reload_card(session, card.id).version)
    assert versions == sorted(set(versions))


def test_expiring_before_lists_spendable_points_by_card(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "a", expires=30)
    give(database, card, clock, 40, "b", expires=60)
    with database.transaction() as session:
        rows = ledger.expiring_before(session, card.program_id, clock.now() + 31 * DAY, clock.now())
    assert rows == [(card.id, 100, clock.now() + 30 * DAY)]


def test_verify_reports_a_tampered_balance(
    database: Database, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "a")
    with database.transaction() as session:
        reload_card(session, card.id).available = 500
    with database.transaction() as session:
        checks = {m.check for m in verify(session)}
    assert checks == {"entries", "lots"}


def test_database_refuses_a_negative_balance_even_if_code_tried(
    database: Database, card: Card
) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), database.transaction() as session:
        reload_card(session, card.id).available = -1
