"""Segments: RFM quintiles scored in one statement, the group map, rule segments, the daily job."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.kit.programs import MakeCard, MakeProgram, demo_document
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import order_facts, segments
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.config_segments import RFM_GROUPS
from walletcards.loyalty.models import Card, Customer, Order, Program
from walletcards.loyalty.segment_models import SegmentSize
from walletcards.loyalty.verify import verify
from walletcards.sync.jobs import run_due

RULES = [
    {"code": "sleepers", "name": {"en": "Sleepers", "ru": "Спящие"}, "last_order_before_days": 90},
    {"code": "gold-big", "tiers": ["gold"], "min_spend": "100.00"},
    {"code": "march", "birthday_month": 3},
    {"code": "fresh", "joined_within_days": 7, "marketing_consent": True},
]


def add_orders(
    database: Database, card: Card, paid_at: list[datetime], total_minor: int, status: str = "paid"
) -> None:
    with database.transaction() as session:
        for index, when in enumerate(paid_at):
            session.add(
                Order(
                    program_id=card.program_id,
                    card_id=card.id,
                    source="orders",
                    external_id=f"{card.id}-{index}-{status}",
                    currency="USD",
                    total_minor=total_minor,
                    eligible_minor=total_minor,
                    status=status,
                    paid_at=when,
                    created_at=when,
                )
            )
        order_facts.refresh(session, session.get_one(Card, card.id))  # as awards.py does


def scores(database: Database, program: Program) -> dict[int, tuple[int, int, int, str]]:
    with database.transaction() as session:
        return segments.card_scores(session, session.merge(program))


def test_the_group_map_places_every_cell_and_reaches_every_group() -> None:
    assert len(segments.GROUP_MAP) == 25 and set(segments.GROUP_MAP.values()) == set(RFM_GROUPS)
    assert segments.GROUP_MAP[5, 5] == "champions" and segments.GROUP_MAP[1, 1] == "lost"
    assert segments.GROUP_MAP[5, 1] == "new" and segments.GROUP_MAP[1, 5] == "cant_lose"


def test_rfm_quintiles_rank_recent_frequent_big_spenders_highest(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    now = clock.now()
    cards = [make_card(program, email=f"c{i}@example.com") for i in range(10)]
    for i, card in enumerate(cards):
        # card i: its last order i*30 days ago, 10-i orders, (10-i) * $10 each
        times = [now - timedelta(days=i * 30 + k) for k in range(10 - i)]
        add_orders(database, card, times, (10 - i) * 1000)
    add_orders(database, cards[9], [now], 999_00, status="cancelled")  # never counts
    with database.transaction() as session:
        assert segments.score_rfm(session, session.merge(program), now) == 10
    found = scores(database, program)
    assert found[cards[0].id] == (5, 5, 5, "champions")
    assert found[cards[9].id] == (1, 1, 1, "lost")
    assert [found[c.id][0] for c in cards] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    with database.transaction() as session:  # members, sizes and scores agree on every group
        merged = session.merge(program)
        sizes = {s.code: s.size for s in segments.segments(session, merged, now, "en")}
        for code in RFM_GROUPS:
            members = set(session.scalars(segments.members(merged, code, now)))
            assert members == {card_id for card_id, s in found.items() if s[3] == code}
            assert len(members) == sizes[code]
    # scoring again later drops a card whose orders are all cancelled now
    with database.transaction() as session:
        session.execute(
            update(Order).where(Order.card_id == cards[9].id).values(status="cancelled")
        )
        order_facts.refresh(session, session.get_one(Card, cards[9].id))  # as refunds.py does
        assert segments.score_rfm(session, session.merge(program), now + timedelta(hours=1)) == 9
    assert cards[9].id not in scores(database, program)


def test_equal_values_share_a_score(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    now = clock.now()
    cards = [make_card(program, email=f"c{i}@example.com") for i in range(10)]
    for card in cards[:7]:
        add_orders(database, card, [now - timedelta(days=3)], 500)
    for i, card in enumerate(cards[7:]):
        add_orders(database, card, [now - timedelta(days=k) for k in range(3 + i)], 500)
    with database.transaction() as session:
        segments.score_rfm(session, session.merge(program), now)
    frequency = {
        found[1]
        for card_id, found in scores(database, program).items()
        if card_id in {c.id for c in cards[:7]}
    }
    assert len(frequency) == 1  # seven one-order customers: one frequency score


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    return make_program(segments=RULES)


def test_rule_segments_select_their_members(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    now = clock.now()
    old = make_card(program, email="old@example.com", birthday=date(1990, 3, 5))
    add_orders(database, old, [now - timedelta(days=200)], 500)
    gold = make_card(program, email="gold@example.com")
    add_orders(database, gold, [now - timedelta(days=1)], 150_00)
    never = make_card(program, email="never@example.com")
    with database.transaction() as session:
        session.execute(update(Card).where(Card.id == gold.id).values(tier_code="gold"))
        session.execute(
            update(Customer).where(Customer.id == never.customer_id).values(marketing_consent=True)
        )
        session.execute(
            update(Customer)
            .where(Customer.id == old.customer_id)
            .values(created_at=now - timedelta(days=300))
        )

    def ids(code: str) -> set[int]:
        with database.transaction() as session:
            return set(session.scalars(segments.members(session.merge(program), code, now)))

    assert ids("sleepers") == {old.id, never.id}
    assert ids("gold-big") == {gold.id}
    assert ids("march") == {old.id}
    assert ids("fresh") == {never.id}
    assert ids("all") == {old.id, gold.id, never.id}
    with pytest.raises(segments.UnknownSegment):
        ids("nobody")
    with database.transaction() as session:
        session.execute(
            update(Customer).where(Customer.id == never.customer_id).values(erased_at=now)
        )
    assert ids("all") == {old.id, gold.id}


def test_the_daily_job_scores_and_records_sizes_once_a_day(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    card = make_card(program, email="ann@example.com")
    add_orders(database, card, [clock.now()], 500)
    assert run_due(database, clock.now())["segments_scored"] == 1
    assert run_due(database, clock.now() + timedelta(minutes=5))["segments_scored"] == 0
    assert run_due(database, clock.now() + timedelta(days=1))["segments_scored"] == 1
    with database.transaction() as session:
        merged = session.merge(program)
        history = segments.size_history(session, merged, date(2000, 1, 1))
        assert [size for _, size in history["all"]] == [1, 1]
        assert len(history["sleepers"]) == 2
        # the one scored card sits in exactly one RFM group each day (a lone card ranks mid)
        assert sum(size for code in RFM_GROUPS for _, size in history[code]) == 2
        assert [size for _, size in history["need_attention"]] == [1, 1]
        assert session.scalar(select(SegmentSize.size).where(SegmentSize.segment == "lost")) == 0


@pytest.mark.parametrize(
    ("segment", "field"),
    [
        ({"code": "champions"}, "segments[0].code"),
        ({"code": "Bad Code"}, "segments[0].code"),
        ({"code": "x", "tiers": ["platinum"]}, "segments[0].tiers"),
        ({"code": "x", "min_spend": "lots"}, "segments[0].min_spend"),
        ({"code": "x", "birthday_month": 13}, "segments[0].birthday_month"),
        ({"code": "x", "marketing_consent": "yes"}, "segments[0].marketing_consent"),
        ({"code": "x", "whatever": 1}, "segments[0].whatever"),
    ],
)
def test_bad_segments_name_their_field(segment: dict[str, Any], field: str) -> None:
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(segments=[segment]))
    assert field in [where for where, _ in caught.value.problems]


def test_ledger_verify_reports_a_card_whose_order_facts_differ_from_its_orders(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    card = make_card(program, email="ann@example.com")
    add_orders(database, card, [clock.now() - timedelta(days=2), clock.now()], 500)
    with database.transaction() as session:
        kept = session.get_one(Card, card.id)
        assert (kept.last_order_at, kept.orders_count, kept.spend_minor) == (clock.now(), 2, 1000)
        assert [m for m in verify(session) if m.check == "order_facts"] == []
        kept.spend_minor = 999
    with database.transaction() as session:
        found = [m.card_id for m in verify(session, program.slug) if m.check == "order_facts"]
    assert found == [card.id]


def test_an_erased_customers_card_leaves_every_size_and_the_rfm_groups(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    now = clock.now()
    cards = [make_card(program, email=f"c{i}@example.com") for i in range(6)]
    for i, card in enumerate(cards[:5]):
        add_orders(database, card, [now - timedelta(days=10 * i)], 1000 * (i + 1))

    def sizes() -> dict[str, int]:
        with database.transaction() as session:
            merged = session.merge(program)
            segments.score_rfm(session, merged, now)
            return {s.code: s.size for s in segments.segments(session, merged, now, "en")}

    before = sizes()
    assert before["all"] == 6 and sum(before[code] for code in RFM_GROUPS) == 5
    erased = scores(database, program)[cards[0].id][3]
    with database.transaction() as session:
        session.execute(
            update(Customer).where(Customer.id == cards[0].customer_id).values(erased_at=now)
        )
    after = sizes()
    assert after["all"] == 5 and sum(after[code] for code in RFM_GROUPS) == 4
    assert after[erased] == before[erased] - 1
