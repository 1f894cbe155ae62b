"""Expired points are gone: a later reversal never turns them into debt, every balance read
shows them gone at once, and lifetimes can be whole calendar months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.kit.programs import MakeCard, MakeProgram, reload_card
from tests.loyalty.test_awards import pay, refund, state
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.corrections import reverse_entry
from walletcards.loyalty.models import Card, LedgerEntry, Lot, Program
from walletcards.loyalty.verify import verify
from walletcards.sync.jobs import run_due

DAY = timedelta(days=1)
NEW_YORK = ZoneInfo("America/New_York")  # the demo's time zone


def clean(database: Database) -> None:
    with database.transaction() as session:
        assert verify(session) == []


def test_cancelling_after_the_welcome_bonus_expired_unspent_leaves_no_debt(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 5000)  # 250 + 300 welcome, spendable day 14-44
    start = clock.now()
    run_due(database, start + 50 * DAY)  # the welcome lot expires, unspent
    clock.set(start + 50 * DAY)
    refund(database, program, clock, "1", "cancel-1", 0, cancel=True)
    assert state(database, card) == (0, 0, 0, None, 0)  # was: debt 300
    pay(database, program, card, clock, "2", 5000)  # earns in full, nothing eaten by debt
    assert state(database, card)[:3] == (0, 250, 0)
    clean(database)


def test_a_cancellation_settles_the_card_itself_before_taking_points_back(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 5000)
    clock.advance(50 * DAY)  # no job ran: the welcome lot expired on the calendar only
    refund(database, program, clock, "1", "cancel-1", 0, cancel=True)
    assert state(database, card)[:3] == (0, 0, 0)
    clean(database)


def test_only_the_spent_part_of_an_expired_bonus_becomes_debt(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 5000)
    clock.advance(15 * DAY)
    with database.transaction() as session:  # from the welcome lot: it expires first
        ledger.redeem(
            session,
            ledger.lock_card(session, card.id),
            key="till-1",
            points=100,
            cause="till",
            now=clock.now(),
        )
    clock.advance(35 * DAY)  # the other 200 welcome points expire
    refund(database, program, clock, "1", "cancel-1", 0, cancel=True)
    assert state(database, card)[:3] == (0, 0, 100)  # was: 300
    clean(database)


def test_a_staff_reversal_of_an_expired_bonus_takes_nothing(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    card = make_card(program, email="b@example.com", birthday=date(1990, 3, 5))
    clock.set(datetime(2026, 3, 5, 15, 0, tzinfo=UTC))
    with database.transaction() as session:
        posted = awards.award_birthday(session, program, card.id, clock.now())
    assert posted is not None
    bonus_id = posted.entry.id
    clock.advance(31 * DAY)  # the 30-day birthday lot expired
    with database.transaction() as session:
        locked = ledger.lock_card(session, card.id)
        bonus = session.get(LedgerEntry, bonus_id)
        assert bonus is not None
        reversal = reverse_entry(
            session, locked, bonus, reason="typo", actor="boss", now=clock.now(), max_points=9999
        )
        assert reversal.entry.points == 0
    assert state(database, card)[:3] == (0, 0, 0)  # was: debt 200
    clean(database)


def test_the_settled_balance_counts_ended_holds_and_drops_expired_points(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 5000)  # 550 pending for 14 days
    start = clock.now()
    for days, expected in ((13, (0, 550)), (14, (550, 0)), (45, (250, 0))):
        with database.transaction() as session:
            fresh = reload_card(session, card.id)
            assert ledger.settled_balance(session, fresh, start + days * DAY) == expected
    assert state(database, card)[:2] == (0, 550)  # reading wrote nothing


def test_expiry_in_months_follows_the_programme_calendar(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(
        hold={"days": 0},
        expiry={"months": 6},
        welcome={"points": 300, "expires_months": 1},
    )
    card = make_card(program, email="m@example.com")
    clock.set(datetime(2025, 8, 31, 12, 0, tzinfo=NEW_YORK))
    pay(database, program, card, clock, "1", 2000)  # 100 + 300
    with database.transaction() as session:
        lots = session.execute(select(Lot.points, Lot.expires_at).order_by(Lot.id)).all()
    local = [(points, when.astimezone(NEW_YORK)) for points, when in lots]
    assert local == [
        (100, datetime(2026, 2, 28, 12, 0, tzinfo=NEW_YORK)),  # no 31 Feb
        (300, datetime(2025, 9, 30, 12, 0, tzinfo=NEW_YORK)),  # no 31 Sep
    ]
    end_of_february = datetime(2026, 2, 28, 12, 0, tzinfo=NEW_YORK)
    run_due(database, end_of_february - timedelta(minutes=1))
    assert state(database, card)[0] == 100
    run_due(database, end_of_february)  # as `walletcards jobs run-due --now` does
    assert state(database, card)[0] == 0
    clean(database)
