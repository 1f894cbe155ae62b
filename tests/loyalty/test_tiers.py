"""Windowed tiers (re-qualifying programmes, window_spend): the tier is what the window's orders
earn, the card says what keeps it, and the card, the till and the earn rate always agree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.kit.programs import MakeCard, MakeProgram, reload_card
from tests.loyalty.test_awards import pay, state
from walletcards.cardface import CardFace, card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.verify import verify

DAY = timedelta(days=1)
LEVELS = [
    {"code": "bronze", "name": "Bronze", "threshold": 1},
    {"code": "silver", "name": "Silver", "threshold": 2, "points_per_unit": "7"},
    {"code": "gold", "name": "Gold", "threshold": 4, "points_per_unit": "10"},
]
SPEND_LEVELS = [
    {"code": "silver", "name": "Silver", "threshold": "100.00", "points_per_unit": "7"},
    {"code": "gold", "name": "Gold", "threshold": "200.00", "points_per_unit": "10"},
]


def face(database: Database, program: Program, card: Card, clock: FixedClock) -> CardFace:
    with database.transaction() as session:
        fresh = reload_card(session, card.id)
        return card_face(session, program, fresh, clock.now(), "secret")


def requalifying(make_program: MakeProgram, **tiers: Any) -> Program:
    return make_program(
        tiers={"qualify_by": "paid_orders", "period": "requalify", "levels": LEVELS, **tiers}
    )


def test_the_card_says_how_many_orders_by_when_keep_a_requalifying_tier(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = requalifying(make_program, requalify_months=12)
    card = make_card(program, email="g@example.com")
    for number in range(4):  # 1, 2, 3 and 4 March 2026
        pay(database, program, card, clock, str(number), 2000)
        clock.advance(DAY)
    assert state(database, card)[3] == "gold"
    # the 1 March order leaves the 12-month window on 1 March 2027: Gold needs one more by then
    assert face(database, program, card, clock).next_tier == "Buy 1 more time by Mar 1 to keep Gold"
    clock.advance(300 * DAY)
    pay(database, program, card, clock, "late", 2000)
    assert face(database, program, card, clock).next_tier == "Buy 1 more time by Mar 2 to keep Gold"


def test_below_the_top_the_card_shows_what_keeps_the_tier_and_what_reaches_the_next(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = requalifying(make_program, requalify_months=6)
    card = make_card(program, email="s@example.com")
    pay(database, program, card, clock, "1", 2000)
    pay(database, program, card, clock, "2", 2000)  # at the same moment: both leave on 1 Sep
    assert face(database, program, card, clock).next_tier == (
        "Buy 2 more times by Sep 1 to keep Silver · 2 more orders to Gold"
    )


def test_a_requalifying_tier_is_decided_by_the_window_when_the_next_order_earns(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = requalifying(make_program, requalify_months=12)
    card = make_card(program, email="w@example.com")
    for number in range(4):
        pay(database, program, card, clock, str(number), 2000)
    clock.advance(400 * DAY)  # no job has run: the stored tier is still Gold
    shown = face(database, program, card, clock)
    assert (shown.tier, shown.next_tier) == (None, "1 more order to Bronze")
    award = pay(database, program, card, clock, "back", 2000)  # the 5th: + the 500 reward
    assert (award.entries[0].kind, award.entries[0].points) == ("earn", 100)  # Bronze, not Gold
    assert state(database, card)[3] == "bronze"


def test_a_window_spend_tier_on_the_card_and_the_earn_rate_never_disagree(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(
        tiers={"qualify_by": "window_spend", "window_days": 30, "levels": SPEND_LEVELS}
    )
    card = make_card(program, email="ws@example.com")
    pay(database, program, card, clock, "big", 25000)  # $250: Gold
    assert face(database, program, card, clock).tier == "Gold"
    clock.advance(40 * DAY)  # the $250 left the 30-day window
    shown = face(database, program, card, clock)
    # was: "Gold" beside "100.00 USD more to Silver"
    assert (shown.tier, shown.next_tier) == (None, "$100.00 more to Silver")
    award = pay(database, program, card, clock, "small", 1000)  # $10 at the base 5/$
    assert [(e.kind, e.points) for e in award.entries] == [("earn", 50)]  # was 100 (Gold)
    shown = face(database, program, card, clock)
    assert (shown.tier, shown.next_tier) == (None, "$90.00 more to Silver")
    with database.transaction() as session:
        assert session.execute(select(Card.tier_code)).scalar_one() is None
        assert verify(session) == []


def test_a_window_spend_tier_says_how_much_to_spend_by_when_to_keep_it(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(
        tiers={"qualify_by": "window_spend", "window_days": 30, "levels": SPEND_LEVELS}
    )
    card = make_card(program, email="keep@example.com")
    pay(database, program, card, clock, "1", 15000)  # 1 March
    clock.advance(10 * DAY)
    pay(database, program, card, clock, "2", 7500)  # 11 March: $225, Gold
    # on 31 March the $150 leaves: $75 left, Gold needs $125 more
    assert face(database, program, card, clock).next_tier == (
        "Spend $125.00 more by Mar 31 to keep Gold"
    )
