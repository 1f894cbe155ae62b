from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.kit.programs import MakeCard, MakeProgram, reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.models import Card, LedgerEntry, Order, Program
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.loyalty.verify import verify

DAY = timedelta(days=1)


def pay(
    database: Database,
    program: Program,
    card: Card,
    clock: FixedClock,
    order_id: str,
    *amounts: int,
    **lines: Any,
) -> awards.OrderAward:
    facts = OrderFacts(
        source="orders",
        external_id=order_id,
        currency=program.currency,
        paid_at=clock.now(),
        lines=tuple(OrderLine(a) for a in amounts) + tuple(lines.get("extra", ())),
    )
    with database.transaction() as session:
        return awards.award_paid_order(session, program, card.id, facts, clock.now())


def refund(
    database: Database,
    program: Program,
    clock: FixedClock,
    order_id: str,
    key: str,
    amount: int,
    *,
    cancel: bool = False,
) -> awards.RefundResult:
    with database.transaction() as session:
        return awards.reverse_order(
            session,
            program,
            source="orders",
            external_id=order_id,
            key=key,
            refunded_minor=amount,
            refunded_eligible_minor=amount,
            cancel=cancel,
            now=clock.now(),
        )


def state(database: Database, card: Card) -> tuple[int, int, int, str | None, int]:
    with database.transaction() as session:
        c = reload_card(session, card.id)
        return c.available, c.pending, c.debt, c.tier_code, c.paid_orders


def kinds(database: Database, card: Card) -> list[tuple[str, int, str]]:
    with database.transaction() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(LedgerEntry.kind, LedgerEntry.points, LedgerEntry.cause)
                .where(LedgerEntry.card_id == card.id)
                .order_by(LedgerEntry.id)
            )
        ]


def test_first_order_earns_base_points_and_the_welcome_bonus_held_for_the_return_window(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    award = pay(database, program, card, clock, "1001", 2599)  # $25.99 at Bronze 5/$ -> 129
    assert award.created
    assert kinds(database, card) == [("earn", 129, "orders:order:1001"), ("bonus", 300, "welcome")]
    assert state(database, card) == (0, 429, 0, "bronze", 1)
    clock.advance(14 * DAY)
    with database.transaction() as session:
        ledger.settle_time(session, ledger.lock_card(session, card.id), clock.now())
    assert state(database, card)[:2] == (429, 0)


def test_order_paid_twice_awards_points_once(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1001", 2000)
    again = pay(database, program, card, clock, "1001", 2000)
    assert not again.created and again.entries == ()
    assert state(database, card) == (0, 400, 0, "bronze", 1)


def test_welcome_bonus_only_once_even_after_the_first_order_is_cancelled(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 1000)
    refund(database, program, clock, "1", "cancel-1", 0, cancel=True)
    assert state(database, card) == (0, 0, 0, None, 0)
    pay(database, program, card, clock, "2", 1000)
    assert [k for k in kinds(database, card) if k[2] == "welcome"] == [("bonus", 300, "welcome")]


def test_an_order_is_a_repeat_only_after_a_counted_one(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 1000)
    refund(database, program, clock, "1", "cancel-1", 0, cancel=True)
    pay(database, program, card, clock, "2", 1000)  # the cancelled one does not count
    pay(database, program, card, clock, "3", 1000)
    with database.transaction() as session:
        flags = session.execute(select(Order.external_id, Order.is_repeat).order_by(Order.id))
        assert [tuple(row) for row in flags] == [("1", False), ("2", False), ("3", True)]


def test_tier_reached_by_the_order_sets_its_rate(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    rates = []
    for number in range(1, 5):
        award = pay(database, program, card, clock, str(number), 10000)  # $100
        rates.append(next(e.points for e in award.entries if e.kind == "earn"))
    assert rates == [500, 700, 700, 1000]  # bronze 5, silver 7 (2nd), silver, gold 10 (4th)
    assert state(database, card)[3] == "gold"


def test_every_fifth_paid_order_earns_the_reward_once(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    for number in range(1, 11):
        pay(database, program, card, clock, str(number), 100)
    rewards = [k for k in kinds(database, card) if k[2].startswith("every_nth")]
    assert rewards == [("bonus", 500, "every_nth:1"), ("bonus", 500, "every_nth:2")]


def test_cancelled_fifth_order_gives_its_reward_back_and_the_next_fifth_earns_it(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    for number in range(1, 6):
        pay(database, program, card, clock, str(number), 100)
    refund(database, program, clock, "5", "cancel-5", 0, cancel=True)
    pay(database, program, card, clock, "6", 100)
    rewards = [k for k in kinds(database, card) if k[2].startswith("every_nth")]
    assert rewards == [("bonus", 500, "every_nth:1"), ("bonus", 500, "every_nth:1")]
    with database.transaction() as session:
        assert verify(session) == []


def test_order_above_the_per_order_limit_is_refused_whole(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(limits={"max_points_per_entry": 1000, "max_points_per_order": 1200})
    card = make_card(program, email="big@example.com")
    with pytest.raises(ledger.LimitExceeded, match="per order"):
        pay(database, program, card, clock, "big", 20000)  # 1000 + 300 welcome > 1200
    assert state(database, card) == (0, 0, 0, None, 0)
    with database.transaction() as session:
        assert session.execute(select(Order)).first() is None


def test_excluded_lines_earn_nothing(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    award = pay(
        database, program, card, clock, "g", 1000, extra=[OrderLine(5000, sku="GIFT-CARD-50")]
    )
    assert award.order.eligible_minor == 1000 and award.order.total_minor == 6000
    assert next(e.points for e in award.entries if e.kind == "earn") == 50


def test_partial_refunds_reverse_pro_rata_and_never_more_than_earned(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 10000)  # 500 + 300 welcome
    refund(database, program, clock, "1", "r1", 3333)
    refund(database, program, clock, "1", "r2", 3333)
    assert state(database, card)[:2] == (0, 800 - 166 - 167)
    refund(database, program, clock, "1", "r3", 9999)  # more than is left: capped at the order
    assert state(database, card)[:5] == (0, 0, 0, None, 0)
    with database.transaction() as session:
        order = session.execute(select(Order)).scalar_one()
        assert (order.status, order.points_reversed) == ("refunded", 500)  # base points


def test_the_same_refund_applied_twice_reverses_once(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 10000)
    first = refund(database, program, clock, "1", "r1", 5000)
    again = refund(database, program, clock, "1", "r1", 5000)
    assert first.created and not again.created
    assert state(database, card)[1] == 800 - 250
    with pytest.raises(ledger.IdempotencyConflict):
        refund(database, program, clock, "1", "r1", 6000)


def test_refund_after_points_were_redeemed_records_debt_and_keeps_balance_at_zero(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 10000)  # 800 pending
    clock.advance(15 * DAY)
    with database.transaction() as session:
        ledger.redeem(
            session,
            ledger.lock_card(session, card.id),
            key="till-1",
            points=700,
            cause="till",
            now=clock.now(),
        )
    refund(database, program, clock, "1", "cancel", 0, cancel=True)
    assert state(database, card)[:3] == (0, 0, 700)
    pay(database, program, card, clock, "2", 20000)  # bronze again: 1000 points net 700 debt
    assert state(database, card)[:3] == (0, 300, 0)
    with database.transaction() as session:
        assert verify(session) == []


def test_refund_lowers_the_tier_but_spending_points_never_does(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 10000)
    pay(database, program, card, clock, "2", 10000)
    clock.advance(15 * DAY)
    with database.transaction() as session:
        ledger.redeem(
            session,
            ledger.lock_card(session, card.id),
            key="spend",
            points=1000,
            cause="till",
            now=clock.now(),
        )
    assert state(database, card)[3] == "silver"
    refund(database, program, clock, "2", "cancel-2", 0, cancel=True)
    assert state(database, card)[3] == "bronze"


def test_refund_of_an_unknown_order_is_refused(
    database: Database, program: Program, clock: FixedClock
) -> None:
    with pytest.raises(awards.UnknownOrder):
        refund(database, program, clock, "nope", "r", 100)


def test_order_in_another_currency_is_refused(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    facts = OrderFacts("orders", "x", "EUR", clock.now(), (OrderLine(100),))
    with pytest.raises(awards.OrderRejected), database.transaction() as session:
        awards.award_paid_order(session, program, card.id, facts, clock.now())


def test_birthday_bonus_once_a_year_in_the_programme_time_zone(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    from datetime import UTC, date, datetime

    card = make_card(program, email="b@example.com", birthday=date(1990, 3, 5))
    # 5 March 03:00 UTC is still 4 March in New York: not yet.
    clock.set(datetime(2026, 3, 5, 3, 0, tzinfo=UTC))
    with database.transaction() as session:
        assert awards.award_birthday(session, program, card.id, clock.now()) is None
    clock.set(datetime(2026, 3, 5, 15, 0, tzinfo=UTC))
    results = []
    for _ in range(2):
        with database.transaction() as session:
            results.append(awards.award_birthday(session, program, card.id, clock.now()))
        clock.advance(DAY)
    assert results[0] is not None and results[0].created
    assert results[1] is not None and not results[1].created
    assert state(database, card)[:2] == (200, 0)
    clock.set(datetime(2027, 3, 6, 15, 0, tzinfo=UTC))  # a day late next year still counts
    with database.transaction() as session:
        posted = awards.award_birthday(session, program, card.id, clock.now())
    assert posted is not None and posted.created


def test_a_refund_after_cancellation_keeps_the_order_cancelled(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    pay(database, program, card, clock, "1", 10000)
    pay(database, program, card, clock, "2", 10000)
    refund(database, program, clock, "1", "cancel-1", 0, cancel=True)
    refund(database, program, clock, "1", "late-refund", 500)
    with database.transaction() as session:
        status = session.execute(select(Order.status).where(Order.external_id == "1")).scalar_one()
    assert status == "cancelled"
    assert state(database, card)[3:] == ("bronze", 1)
