"""Campaigns ([[campaigns]]): multipliers and bonuses on paid orders in the programme's time zone,
every-year holidays, streaks, refunds taking campaign points back once, and overlaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.kit.programs import MakeCard, MakeProgram, demo_document, reload_card
from tests.loyalty.test_awards import refund
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards
from walletcards.loyalty.campaign_models import CampaignGrant
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.config_campaigns import Campaign
from walletcards.loyalty.models import Card, LedgerEntry, Program
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.loyalty.verify import verify

ZONE = ZoneInfo("America/New_York")  # the demo programme's time zone
PLAIN = {"welcome": None, "every_nth": None, "tiers": None, "birthday": None}
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def campaign(**fields: Any) -> dict[str, Any]:
    return {"code": "double", "name": "Double", "kind": "multiplier", "multiplier": "2", **fields}


def pay_at(
    database: Database, program: Program, card: Card, order_id: str, amount: int, when: datetime
) -> awards.OrderAward:
    facts = OrderFacts("orders", order_id, program.currency, when, (OrderLine(amount),))
    with database.transaction() as session:
        return awards.award_paid_order(session, program, card.id, facts, when)


def points_of(award: awards.OrderAward) -> dict[str, int]:
    return {e.cause.split(":")[0] if e.kind == "earn" else e.cause: e.points for e in award.entries}


def campaign_points(database: Database, card: Card) -> int:
    with database.transaction() as session:
        rows = session.execute(
            select(LedgerEntry.kind, LedgerEntry.points).where(
                LedgerEntry.card_id == card.id, LedgerEntry.cause.startswith("campaign:")
            )
        ).all()
    return sum(points if kind == "bonus" else -points for kind, points in rows)


def clean(database: Database) -> None:
    with database.transaction() as session:
        assert verify(session) == []


# -- the programme file ------------------------------------------------------------------------


def test_campaigns_are_read_with_their_windows_in_the_programmes_time_zone() -> None:
    config = parse_program(
        demo_document(
            campaigns=[
                campaign(starts="2026-11-27", ends="2026-11-30"),
                {
                    "code": "new-year",
                    "name": {"en": "New Year", "ru": "Новый год"},
                    "kind": "bonus",
                    "points": 100,
                    "starts": "12-31",
                    "ends": "01-02",
                    "every_year": True,
                    "tiers": ["gold"],
                    "min_order_amount": "20",
                    "expires_days": 14,
                },
            ]
        )
    )
    black_friday, new_year = config.campaigns
    window = black_friday.window_at(local(2026, 11, 27, 0, 0), "America/New_York")
    assert window is not None
    assert (window.start, window.end) == (local(2026, 11, 27, 0, 0), local(2026, 12, 1, 0, 0))
    assert window.last_day("America/New_York") == date(2026, 11, 30)
    assert new_year.name_in("ru") == "Новый год" and new_year.tiers == {"gold"}
    assert new_year.min_order_minor == 2000 and new_year.expires is not None


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"kind": "lottery"}, "campaigns[0].kind"),
        ({"multiplier": "1"}, "campaigns[0].multiplier"),
        ({"multiplier": "1e999"}, "campaigns[0].multiplier"),
        ({"starts": "2026-03-08", "ends": "2026-03-07"}, "campaigns[0].ends"),
        ({"starts": "02-29", "ends": "03-01", "every_year": True}, "campaigns[0].starts"),
        ({"starts": "2026-13-01", "ends": "2026-12-01"}, "campaigns[0].starts"),
        ({"starts": "0001-01-01", "ends": "9999-12-31"}, "campaigns[0].ends"),
        ({"starts": "2026-03-08+03:00", "ends": "2026-03-09"}, "campaigns[0].starts"),
        ({"tiers": ["platinum"]}, "campaigns[0].tiers"),
        ({"segment": "Big\x00"}, "campaigns[0].segment"),
        ({"surprise": 1}, "campaigns[0].surprise"),
        ({"kind": "streak", "points": 10}, "campaigns[0].orders"),
        ({"kind": "bonus", "points": 10**9}, "campaigns[0].points"),
    ],
)
def test_a_wrong_campaign_is_refused_naming_its_field(fields: dict[str, Any], where: str) -> None:
    entry = campaign(**{"starts": "2026-03-08", "ends": "2026-03-09", **fields})
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(campaigns=[entry]))
    assert where in [field for field, _ in caught.value.problems]


def test_two_campaigns_with_one_code_are_refused() -> None:
    twice = [campaign(starts="2026-03-08", ends="2026-03-09")] * 2
    with pytest.raises(ProgramConfigError, match="duplicate campaign code"):
        parse_program(demo_document(campaigns=twice))


# -- windows -------------------------------------------------------------------------------------


@given(year=st.integers(2001, 2090), minutes=st.integers(-180, 180))
def test_every_year_holidays_recur_and_new_year_wraps(year: int, minutes: int) -> None:
    """31 Dec - 2 Jan and 8 March hold every year, in local time, to the minute."""
    new_year = Campaign(
        "ny", "NY", "bonus", datetime(2000, 12, 31), datetime(2000, 1, 2), True, True, points=1
    )
    march = Campaign(
        "m8", "8M", "bonus", datetime(2000, 3, 8), datetime(2000, 3, 8), True, True, points=1
    )
    zone = "America/New_York"
    shift = timedelta(minutes=minutes)
    start = local(year, 12, 31, 0, 0)
    end = local(year + 1, 1, 3, 0, 0)
    for moment in (start + shift, end + shift):
        found = new_year.window_at(moment, zone)
        assert (found is not None) == (start <= moment < end)
        if found is not None:
            assert found.key == f"{year}-12-31"
    eighth = local(year, 3, 8, 0, 0)
    for moment in (eighth + shift, local(year, 3, 9, 0, 0) + shift):
        assert (march.window_at(moment, zone) is not None) == (
            moment.astimezone(ZONE).date() == date(year, 3, 8)
        )


def test_toml_dates_are_read_as_local_dates(tmp_path: Any) -> None:
    from tests.kit.programs import demo_file
    from walletcards.loyalty.config import load_program_file

    path = tmp_path / "p.toml"
    text = demo_file().read_text()
    path.write_text(
        text + '\n[[campaigns]]\ncode = "bf"\nname = "BF"\nkind = "multiplier"\n'
        'multiplier = "2"\nstarts = 2026-11-27\nends = 2026-11-30T23:00:00\n'
    )
    config = load_program_file(path)
    assert config.document["campaigns"][0]["starts"] == "2026-11-27"
    window = config.campaigns[0].window_at(local(2026, 11, 30, 22, 59), "America/New_York")
    assert window is not None and window.end == local(2026, 11, 30, 23, 0)


# -- orders ---------------------------------------------------------------------------------------


def test_a_multiplier_pays_exactly_twice_inside_its_window_and_once_outside_around_midnight(
    database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    program = make_program(**PLAIN, campaigns=[campaign(starts="2026-03-08", ends="2026-03-08")])
    cards = count()
    start, end = local(2026, 3, 8, 0, 0), local(2026, 3, 9, 0, 0)

    @EXAMPLES
    @given(
        edge=st.sampled_from([start, end]),
        seconds=st.integers(-7200, 7200),
        amount=st.integers(1, 200_000),  # up to 10,000 base points: within [limits]
    )
    def check(edge: datetime, seconds: int, amount: int) -> None:
        card = make_card(program, email=f"m{next(cards)}@example.com")
        when = edge + timedelta(seconds=seconds)
        award = pay_at(database, program, card, f"o-{card.id}", amount, when)
        base = amount * 5 // 100
        inside = start <= when < end
        total = sum(e.points for e in award.entries)
        assert total == (2 * base if inside else base)
        assert campaign_points(database, card) == (base if inside else 0)

    check()
    clean(database)


def test_overlapping_campaigns_take_the_highest_multiplier_and_add_the_bonuses(
    database: Database, make_program: MakeProgram, card: Card
) -> None:
    window = {"starts": "2026-03-01", "ends": "2026-03-31"}
    program = make_program(
        **PLAIN,
        campaigns=[
            campaign(code="double", **window),
            campaign(code="triple", multiplier="3", **window),
            {"code": "fifty", "name": "+50", "kind": "bonus", "points": 50, **window},
            {"code": "ten", "name": "+10", "kind": "bonus", "points": 10, **window},
            {"code": "big", "name": "Big", "kind": "bonus", "points": 99, **window,
             "min_order_amount": "100"},
            {"code": "vip", "name": "VIP", "kind": "bonus", "points": 99, **window,
             "segment": "champions"},
        ],
    )  # fmt: skip
    award = pay_at(database, program, card, "1", 2000, local(2026, 3, 10, 12, 0))
    assert points_of(award) == {
        "orders": 100,
        "campaign:triple:orders:order:1": 200,
        "campaign:fifty:orders:order:1": 50,
        "campaign:ten:orders:order:1": 10,
    }
    assert award.order.bonus_points == 260
    clean(database)


def test_campaign_points_are_cut_to_the_orders_limit(
    database: Database, make_program: MakeProgram, card: Card
) -> None:
    program = make_program(
        **PLAIN,
        limits={"max_points_per_entry": 1000, "max_points_per_order": 1500},
        campaigns=[campaign(starts="2026-03-01", ends="2026-03-31")],
    )
    award = pay_at(database, program, card, "1", 20000, local(2026, 3, 10, 12, 0))  # 1000 base
    assert [e.points for e in award.entries] == [1000, 500]


def test_a_tier_campaign_pays_only_that_tier(
    database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    program = make_program(
        welcome=None,
        every_nth=None,
        campaigns=[campaign(starts="2026-03-01", ends="2026-03-31", tiers=["silver"])],
    )
    card = make_card(program, email="t@example.com")
    first = pay_at(database, program, card, "1", 1000, local(2026, 3, 2, 12, 0))  # bronze
    second = pay_at(database, program, card, "2", 1000, local(2026, 3, 3, 12, 0))  # silver
    assert [e.points for e in first.entries] == [50]
    assert [e.points for e in second.entries] == [70, 70]


def test_a_refunded_order_takes_its_campaign_points_back_once(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    window = {"starts": "2026-02-01", "ends": "2026-03-31"}
    program = make_program(
        **PLAIN,
        campaigns=[
            campaign(**window),
            {"code": "fifty", "name": "+50", "kind": "bonus", "points": 50, **window},
        ],
    )
    cards = count()

    @EXAMPLES
    @given(
        amount=st.integers(100, 100_000),
        parts=st.lists(st.integers(0, 100_000), min_size=1, max_size=4),
        replay=st.booleans(),
    )
    def check(amount: int, parts: list[int], replay: bool) -> None:
        card = make_card(program, email=f"r{next(cards)}@example.com")
        order = f"r-{card.id}"
        pay_at(database, program, card, order, amount, clock.now())
        base = amount * 5 // 100
        refunded = 0
        for index, part in enumerate(parts):
            part = min(part, amount - refunded)
            refunded += part
            refund(database, program, clock, order, f"{order}:{index}", part)
            if replay:  # the shop delivers the same refund again: nothing more is taken
                refund(database, program, clock, order, f"{order}:{index}", part)
            kept = base - base * refunded // amount if refunded < amount else 0
            bonus = 50 if amount - refunded >= 100 else 0  # counts from $1.00 (the demo)
            assert campaign_points(database, card) == kept + bonus
        refund(database, program, clock, order, f"{order}:cancel", 0, cancel=True)
        refund(database, program, clock, order, f"{order}:cancel", 0, cancel=True)
        assert campaign_points(database, card) == 0
        with database.transaction() as session:
            assert reload_card(session, card.id).pending == 0
            grants = session.execute(
                select(CampaignGrant).where(CampaignGrant.card_id == card.id)
            ).scalars()
            assert all(g.points_reversed == g.points for g in grants)

    check()
    clean(database)


def test_a_streak_pays_once_per_window(
    database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    streak = {
        "code": "three",
        "name": "Three in ten",
        "kind": "streak",
        "orders": 3,
        "within_days": 10,
        "points": 100,
        "starts": "2026-01-01",
        "ends": "2026-12-31",
    }
    program = make_program(**PLAIN, campaigns=[streak])
    cards = count()

    @EXAMPLES
    @given(gaps=st.lists(st.integers(1, 12 * 24), min_size=1, max_size=12))
    def check(gaps: list[int]) -> None:
        card = make_card(program, email=f"s{next(cards)}@example.com")
        when = local(2026, 2, 1, 9, 0)
        times, rewarded = [], []
        for number, hours in enumerate(gaps):
            when += timedelta(hours=hours)
            times.append(when)
            award = pay_at(database, program, card, f"s-{card.id}-{number}", 1000, when)
            if any(e.cause.startswith("campaign:three:") for e in award.entries):
                rewarded.append(number)
        # expected: greedy streaks of 3 orders within 10 days, each order in at most one
        expected, used = [], -1
        for index in range(len(times)):
            window = [
                i for i in range(used + 1, index + 1) if times[index] - times[i] < timedelta(10)
            ]
            if len(window) >= 3:
                expected.append(index)
                used = index
        assert rewarded == expected

    check()
    clean(database)


def test_the_card_shows_the_running_campaigns_in_its_language(
    database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    program = make_program(
        **PLAIN,
        languages=["en", "ru"],
        campaigns=[
            campaign(name={"en": "Spring", "ru": "Весна"}, starts="2026-03-01", ends="03-08")
            | {"every_year": True, "starts": "03-01"},
            {"code": "streak", "name": "Streak", "kind": "streak", "orders": 3,
             "within_days": 30, "points": 100, "starts": "2026-03-01", "ends": "2026-04-30"},
            {"code": "vip", "name": "VIP", "kind": "bonus", "points": 9,
             "starts": "2026-03-01", "ends": "2026-04-30", "segment": "champions"},
        ],
    )  # fmt: skip
    card = make_card(program, email="face@example.com", locale="ru")
    now = local(2026, 3, 2, 12, 0)
    pay_at(database, program, card, "1", 1000, now)
    with database.transaction() as session:
        fresh = reload_card(session, card.id)
        russian = card_face(session, program, fresh, now, "k" * 32).campaigns
        english = card_face(session, program, fresh, now, "k" * 32, locale="en").campaigns
    assert english == ("Spring: Double points until Mar 8", "Streak: 2 more purchases by Apr 1")
    assert russian[0].startswith("Весна: ") and "8 мар" in russian[0]
