"""What counting orders unlock (welcome bonus, every-Nth rewards, order-count tiers) and taking
it back: only orders at the minimum count, and the rewards always follow the count."""

from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.kit.programs import MakeCard, MakeProgram, reload_card
from tests.loyalty.test_awards import kinds, pay, refund, state
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Order, Program
from walletcards.loyalty.rules import OrderLine
from walletcards.loyalty.unlocks import held_nth_rewards
from walletcards.loyalty.verify import verify

GIFT_CARD = OrderLine(5000, sku="GIFT-CARD-50")  # excluded by the demo's earning rule


def clean(database: Database) -> None:
    with database.transaction() as session:
        assert verify(session) == []


def rewards_held(database: Database, card: Card) -> int:
    with database.transaction() as session:
        return len(held_nth_rewards(session, reload_card(session, card.id)))


def test_a_zero_order_earns_no_welcome_bonus_and_no_tier(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    award = pay(database, program, card, clock, "free", 0)
    assert award.created and award.entries == ()
    assert state(database, card) == (0, 0, 0, None, 0)
    clean(database)


def test_gift_card_only_orders_earn_nothing_and_reach_no_tier(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    for number in range(5):  # was: 300 welcome + 500 for the 5th order, and Gold
        pay(database, program, card, clock, f"gift-{number}", extra=[GIFT_CARD])
    assert kinds(database, card) == []
    assert state(database, card) == (0, 0, 0, None, 0)
    clean(database)


def test_an_order_counts_only_from_the_minimum_eligible_amount(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(earning={"points_per_unit": "5", "min_order_amount": "10.00"})
    card = make_card(program, email="min@example.com")
    small = pay(database, program, card, clock, "small", 999)  # $9.99: 49 points, no more
    assert [(e.kind, e.points) for e in small.entries] == [("earn", 49)]
    assert state(database, card) == (0, 49, 0, None, 0)
    pay(database, program, card, clock, "enough", 1000)  # $10.00: counts, welcome, Bronze
    assert state(database, card) == (0, 49 + 50 + 300, 0, "bronze", 1)
    clean(database)


def test_refunding_the_eligible_part_takes_back_what_the_order_unlocked_once(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    # $20 of coffee + a $50 gift card: the coffee counts (welcome, Bronze).
    pay(database, program, card, clock, "1", 2000, extra=[GIFT_CARD])
    assert state(database, card) == (0, 100 + 300, 0, "bronze", 1)
    refund(database, program, clock, "1", "coffee-back", 2000)  # the gift card is kept
    assert state(database, card) == (0, 0, 0, None, 0)
    refund(database, program, clock, "1", "late", 500)  # nothing more to take
    assert state(database, card) == (0, 0, 0, None, 0)
    welcome = [k for k in kinds(database, card) if k[0] == "reversal" and k[1] == 300]
    assert len(welcome) == 1
    with database.transaction() as session:
        order = session.execute(select(Order)).scalar_one()
        assert (order.status, order.counted) == ("partially_refunded", False)
    clean(database)


def test_a_refund_below_the_minimum_uncounts_the_order_and_its_reward(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(
        earning={"points_per_unit": "5", "min_order_amount": "10.00"},
        every_nth={"orders": 2, "points": 500},
    )
    card = make_card(program, email="below@example.com")
    pay(database, program, card, clock, "A", 2000)  # count 1: 100 + 300 welcome
    pay(database, program, card, clock, "B", 2000)  # count 2, Silver: 140 + 500 reward
    assert state(database, card) == (0, 1040, 0, "silver", 2)
    refund(database, program, clock, "A", "r1", 1500)  # $5 left of A: below $10
    # 75 of A's base pro rata, the welcome bonus, and the reward count 1 no longer carries
    assert state(database, card) == (0, 1040 - 75 - 300 - 500, 0, "bronze", 1)
    assert rewards_held(database, card) == 0
    refund(database, program, clock, "A", "r2", 100)  # only A's base pro rata: 80 in all
    assert state(database, card) == (0, 1040 - 80 - 300 - 500, 0, "bronze", 1)
    pay(database, program, card, clock, "C", 2000)  # count 2 again: the reward again
    assert rewards_held(database, card) == 1
    clean(database)


def test_cancelling_the_sixth_order_after_the_seventh_keeps_the_reward_count(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(every_nth={"orders": 3, "points": 50})
    card = make_card(program, email="third@example.com")
    for number in range(1, 8):
        pay(database, program, card, clock, str(number), 1000)
    refund(database, program, clock, "6", "cancel-6", 0, cancel=True)
    assert rewards_held(database, card) == 2  # 6 counting orders
    for number in range(8, 14):
        pay(database, program, card, clock, str(number), 1000)
    assert state(database, card)[4] == 12
    assert rewards_held(database, card) == 4  # was 3: the 2nd reward was never earned again
    # base: 50 (Bronze) + 70 + 70 (Silver) + 10 x 100 (Gold), less the 6th's 100; welcome 300;
    # 4 rewards of 50
    assert state(database, card)[1] == 50 + 70 + 70 + 900 + 300 + 4 * 50
    clean(database)


def test_cancelling_the_sixth_order_takes_its_reward_back_until_the_count_is_made_up(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(every_nth={"orders": 3, "points": 50})
    card = make_card(program, email="sixth@example.com")
    for number in range(1, 7):
        pay(database, program, card, clock, str(number), 1000)
    assert rewards_held(database, card) == 2
    refund(database, program, clock, "6", "cancel-6", 0, cancel=True)
    assert rewards_held(database, card) == 1
    for number in range(7, 14):
        pay(database, program, card, clock, str(number), 1000)
        assert rewards_held(database, card) == state(database, card)[4] // 3
    assert rewards_held(database, card) == 4
    clean(database)


# (what, which earlier order, amount in cents): pay an order, refund part of one, cancel one
ORDER_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["pay", "pay", "refund", "cancel"]),
        st.integers(0, 30),
        st.integers(0, 3000),
    ),
    min_size=1,
    max_size=18,
)


def test_rewards_held_always_equal_the_count_divided_by_n(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(
        earning={"points_per_unit": "5", "min_order_amount": "5.00"},
        every_nth={"orders": 3, "points": 50},
    )
    cards = count()

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(steps=ORDER_STEPS)
    def check(steps: list[tuple[str, int, int]]) -> None:
        card = make_card(program, email=f"p{next(cards)}@example.com")
        orders: list[str] = []
        for number, (what, pick, amount) in enumerate(steps):
            if what == "pay":
                orders.append(f"{card.id}-{number}")
                pay(database, program, card, clock, orders[-1], amount)
            elif orders:
                order = orders[pick % len(orders)]
                key = f"{order}:{number}"
                cancel = what == "cancel"
                refund(database, program, clock, order, key, 0 if cancel else amount, cancel=cancel)
            with database.transaction() as session:
                fresh = reload_card(session, card.id)
                counted = session.execute(
                    select(Order.id).where(Order.card_id == card.id, Order.counted.is_(True))
                ).all()
                assert fresh.paid_orders == len(counted)
                assert len(held_nth_rewards(session, fresh)) == fresh.paid_orders // 3
                assert verify(session, program.slug) == []

    check()
