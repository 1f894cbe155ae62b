"""Earn rates as a cashback percentage and the money value of a point (config_money.py)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from tests.kit.programs import MakeCard, MakeProgram, demo_document
from tests.loyalty.test_awards import pay
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.rules import earning_rate, points_for, tier_for
from walletcards.loyalty.verify import verify

EARNING = {"exclude_skus": ["GIFT-CARD-25"]}


def problems_of(document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ProgramConfigError) as raised:
        parse_program(document)
    return raised.value.problems


def levels(*rates: dict[str, str]) -> dict[str, Any]:
    return {
        "qualify_by": "paid_orders",
        "levels": [
            {"code": f"l{i}", "name": f"L{i}", "threshold": i + 1, **rate}
            for i, rate in enumerate(rates)
        ],
    }


def test_a_cashback_percentage_earns_through_the_point_value() -> None:
    rules = parse_program(
        demo_document(earning={"cashback_percent": "10", **EARNING}, tiers=None)
    ).rules
    rate = earning_rate(rules, None)
    assert rate == 10  # 10 % at $0.01 a point: 10 points per dollar
    assert points_for(1299, rate, "USD") == 129  # $12.99 -> $1.29 back as 129 points


def test_a_percentage_rate_is_exact_and_never_loses_a_point_to_rounding() -> None:
    rules = parse_program(
        demo_document(
            earning={"cashback_percent": "1"}, redemption={"point_value": "0.03"}, tiers=None
        )
    ).rules
    rate = earning_rate(rules, None)
    assert rate == Fraction(1, 3)
    # $3.00 at 1 % is 3 cents = exactly one 3-cent point; 1/3 as a 28-digit decimal gave 0.99…
    assert points_for(300, rate, "USD") == 1
    assert points_for(299, rate, "USD") == 0


def test_tier_levels_may_earn_a_percentage_or_a_rate() -> None:
    document = demo_document(tiers=levels({}, {"cashback_percent": "7"}, {"points_per_unit": "12"}))
    rules = parse_program(document).rules
    assert rules.tiers is not None
    assert earning_rate(rules, tier_for(rules.tiers, 1)) == 5  # the programme's own rate
    assert earning_rate(rules, tier_for(rules.tiers, 2)) == 7  # 7 % at $0.01
    assert earning_rate(rules, tier_for(rules.tiers, 3)) == 12


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (
            {"earning": {"points_per_unit": "5", "cashback_percent": "5"}},
            "earning.cashback_percent",
            "not both",
        ),
        (
            {"earning": {"cashback_percent": "5"}, "redemption": None},
            "earning.cashback_percent",
            "point_value",
        ),
        (
            {"tiers": levels({"cashback_percent": "5"}), "redemption": {"allow_lookup": True}},
            "tiers.levels[0].cashback_percent",
            "point_value",
        ),
        (
            {"tiers": levels({"cashback_percent": "3", "points_per_unit": "3"})},
            "tiers.levels[0].cashback_percent",
            "not both",
        ),
        ({"earning": {"cashback_percent": "0"}}, "earning.cashback_percent", "above 0"),
        ({"earning": {"cashback_percent": "150"}}, "earning.cashback_percent", "at most 100"),
        ({"earning": {"cashback_percent": 5.5}}, "earning.cashback_percent", "string"),
        ({"earning": {"include_tax": True}}, "earning.points_per_unit", "cashback_percent"),
        ({"redemption": {"point_value": "0"}}, "redemption.point_value", "above 0"),
        ({"redemption": {"point_value": "-0.01"}}, "redemption.point_value", "decimal"),
    ],
)
def test_bad_rates_and_point_values_are_refused_by_field(
    change: dict[str, Any], field: str, says: str
) -> None:
    problems = problems_of(demo_document(**change))
    assert any(where == field and says in what for where, what in problems), problems


def test_without_a_point_value_points_have_no_money_value() -> None:
    assert parse_program(demo_document(redemption=None)).rules.point_value is None
    stated = parse_program(demo_document()).rules.point_value
    assert stated == Decimal("0.01")


def test_a_paid_order_in_a_cashback_programme_earns_its_percentage_at_its_tier(
    make_program: MakeProgram, make_card: MakeCard, database: Database, clock: FixedClock
) -> None:
    program = make_program(
        earning={"cashback_percent": "5"},
        tiers=levels({}, {"cashback_percent": "10"}),
        welcome=None,
        every_nth=None,
    )
    card = make_card(program, email="ann@example.com")
    first = pay(database, program, card, clock, "A-1", 1299)  # L0: the programme's 5 %
    second = pay(database, program, card, clock, "A-2", 1299)  # L1: its own 10 %
    assert [e.points for e in first.entries] == [64]  # 5 % of $12.99 = 64.95 cents
    assert [e.points for e in second.entries] == [129]
    with database.transaction() as session:
        assert verify(session) == []
