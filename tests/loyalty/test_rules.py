from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.kit.programs import demo_document
from walletcards.loyalty.config import parse_program
from walletcards.loyalty.periods import Span, add_months
from walletcards.loyalty.rules import (
    OrderFacts,
    OrderLine,
    birthday_in,
    earning_rate,
    eligible_minor,
    lot_dates,
    next_tier,
    nth_rewards_due,
    orders_to_nth_reward,
    points_for,
    reversal_target,
    tier_for,
)

RULES = parse_program(demo_document()).rules
PAID = datetime(2026, 3, 1, tzinfo=UTC)


def facts(*lines: OrderLine, shipping: int = 0, tax: int = 0) -> OrderFacts:
    return OrderFacts("orders", "1", "USD", PAID, tuple(lines), shipping, tax)


def test_points_round_down_once_per_order() -> None:
    assert points_for(1299, Decimal("5"), "USD") == 64  # 64.95 -> 64
    assert points_for(99, Decimal("5"), "USD") == 4
    assert points_for(19, Decimal("5"), "USD") == 0
    assert points_for(1000, Decimal("0.05"), "RUB") == 0  # 10 RUB at 5 % of a rouble
    assert points_for(100000, Decimal("0.05"), "RUB") == 50


def test_zero_decimal_currency_uses_whole_units() -> None:
    assert points_for(1500, Decimal("0.1"), "JPY") == 150


def test_excluded_brand_sku_and_product_type_earn_nothing_case_insensitively() -> None:
    order = facts(
        OrderLine(1000, sku="LATTE"),
        OrderLine(2500, sku="gift-card-25"),
        OrderLine(700, brand=" GIFT co "),
        OrderLine(300, product_type="gift card"),
    )
    assert eligible_minor(RULES.earning, order) == 1000


def test_shipping_and_tax_excluded_unless_configured() -> None:
    order = facts(OrderLine(1000), shipping=500, tax=80)
    assert eligible_minor(RULES.earning, order) == 1000
    with_both = parse_program(
        demo_document(
            earning={"points_per_unit": "5", "include_shipping": True, "include_tax": True}
        )
    ).rules
    assert eligible_minor(with_both.earning, order) == 1580


def test_tier_thresholds_are_inclusive_at_exact_boundaries() -> None:
    tiers = RULES.tiers
    assert tiers is not None
    assert tier_for(tiers, 0) is None
    assert [tier_for(tiers, n).code for n in (1, 2, 3, 4, 99)] == [  # type: ignore[union-attr]
        "bronze",
        "silver",
        "silver",
        "gold",
        "gold",
    ]


def test_spend_thresholds_are_minor_units_of_the_currency() -> None:
    document = demo_document()
    document["tiers"] = {
        "qualify_by": "lifetime_spend",
        "levels": [{"code": "vip", "name": "VIP", "threshold": "100.00"}],
    }
    tiers = parse_program(document).rules.tiers
    assert tiers is not None
    assert tier_for(tiers, 9999) is None
    assert tier_for(tiers, 10000).code == "vip"  # type: ignore[union-attr]


def test_next_tier_reports_what_is_missing() -> None:
    tiers = RULES.tiers
    assert tiers is not None
    level, missing = next_tier(tiers, 2)  # type: ignore[misc]
    assert (level.code, missing) == ("gold", 2)
    assert next_tier(tiers, 4) is None


def test_tier_without_own_rate_earns_the_base_rate() -> None:
    tiers = RULES.tiers
    assert tiers is not None
    assert earning_rate(RULES, tier_for(tiers, 1)) == Decimal("5")
    assert earning_rate(RULES, tier_for(tiers, 4)) == Decimal("10")
    assert earning_rate(RULES, None) == Decimal("5")


def test_every_nth_progress_and_due() -> None:
    assert orders_to_nth_reward(0, 5) == 5
    assert orders_to_nth_reward(3, 5) == 2
    assert orders_to_nth_reward(5, 5) == 5
    assert [nth_rewards_due(n, 5) for n in (0, 4, 5, 6, 10)] == [0, 0, 1, 1, 2]


@pytest.mark.parametrize(
    ("born", "year", "expected"),
    [
        (date(1990, 2, 28), 2027, date(2027, 2, 28)),
        (date(1992, 2, 29), 2027, date(2027, 2, 28)),
        (date(1992, 2, 29), 2028, date(2028, 2, 29)),
    ],
)
def test_birthday_on_29_february_falls_on_28_february_in_common_years(
    born: date, year: int, expected: date
) -> None:
    assert birthday_in(born, year) == expected


def test_lot_expires_counted_from_when_it_becomes_spendable() -> None:
    available, expires = lot_dates(PAID, 14, Span(days=180), "UTC")
    assert (available - PAID).days == 14
    assert expires is not None and (expires - available).days == 180
    assert lot_dates(PAID, 0, None, "UTC") == (PAID, None)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-08-31T12:00", 6, "2026-02-28T12:00"),  # no 31 Feb: its last day
        ("2027-08-31T12:00", 6, "2028-02-29T12:00"),  # a leap year
        ("2026-01-31T09:30", 1, "2026-02-28T09:30"),
        ("2026-03-15T23:30", 12, "2027-03-15T23:30"),
        ("2026-08-31T12:00", -6, "2026-02-28T12:00"),  # back: the start of a 6-month window
    ],
)
def test_months_are_calendar_months_in_the_programme_time_zone(
    start: str, months: int, expected: str
) -> None:
    zone = ZoneInfo("America/New_York")
    moment = datetime.fromisoformat(start).replace(tzinfo=zone)
    moved = add_months(moment, months, "America/New_York")
    # the same wall-clock time in New York, across the daylight-saving change
    assert moved.astimezone(zone).replace(tzinfo=None) == datetime.fromisoformat(expected)


def test_month_arithmetic_uses_the_local_date_not_the_utc_one() -> None:
    # 1 Sep 02:00 UTC is still 31 Aug in New York: six months on is the end of February.
    paid = datetime(2025, 9, 1, 2, 0, tzinfo=UTC)
    _, expires = lot_dates(paid, 0, Span(months=6), "America/New_York")
    assert expires is not None
    assert expires.astimezone(ZoneInfo("America/New_York")).date() == date(2026, 2, 28)
    _, in_utc = lot_dates(paid, 0, Span(months=6), "UTC")
    assert in_utc == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_reversal_target_pro_rata_never_exceeds_earned() -> None:
    assert reversal_target(100, 1000, 333) == 33
    assert reversal_target(100, 1000, 999) == 99
    assert reversal_target(100, 1000, 1000) == 100
    assert reversal_target(100, 1000, 5000) == 100
    assert reversal_target(7, 0, 0) == 7
