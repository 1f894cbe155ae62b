"""The rules tables of a programme file (`[earning]`, `[redemption]`, `[hold]`, `[expiry]`,
`[welcome]`, `[every_nth]`, `[birthday]`, `[limits]`, `[tiers]`, `[cashier]`) as typed rules.

Documented in README.md (the rules table) and exercised by examples/demo.toml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from walletcards.loyalty.config_money import check_cashback, read_point_value, read_rate
from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_redemption import RedemptionRules, read_redemption
from walletcards.loyalty.config_tier_discount import (
    DiscountExclusions,
    check_exclusions,
    read_discount_percent,
    read_exclusions,
)
from walletcards.loyalty.names import Names, name_in, read_names
from walletcards.loyalty.periods import Span
from walletcards.money import MoneyError, to_minor

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
QUALIFY_BY = ("lifetime_spend", "window_spend", "paid_orders")
PERIODS = ("lifetime", "requalify")
WELCOME_ON = ("first_order", "join")


@dataclass(frozen=True)
class EarningRule:
    points_per_unit: Decimal
    include_shipping: bool
    include_tax: bool
    exclude_brands: frozenset[str]
    exclude_skus: frozenset[str]
    exclude_product_types: frozenset[str]
    # the eligible amount (minor units) from which an order counts towards the welcome bonus,
    # every-Nth rewards and order-count tiers; by default any amount above zero
    min_order_minor: int = 1
    cashback_percent: Decimal | None = None  # instead of points_per_unit (config_money.py)


@dataclass(frozen=True)
class BonusRule:
    points: int
    expires: Span | None  # None: the programme's [expiry]
    # [welcome] only: "first_order" (default: joining alone pays nothing, so sign-ups cannot be
    # farmed) or "join" (paid once per person when they join, after confirming their email)
    on: str = "first_order"


@dataclass(frozen=True)
class EveryNthRule:
    orders: int
    points: int


@dataclass(frozen=True)
class Tier:
    code: str
    name: str  # in the programme's default language
    threshold: int  # paid orders, or minor units of spend
    points_per_unit: Decimal | None
    names: Names = ()  # per language, when the file gives a table
    cashback_percent: Decimal | None = None  # instead of points_per_unit (config_money.py)
    discount_percent: Decimal | None = None  # off the price (config_tier_discount.py)

    def name_in(self, lang: str) -> str:
        return name_in(self.name, self.names, lang)


@dataclass(frozen=True)
class TierRules:
    qualify_by: Literal["lifetime_spend", "window_spend", "paid_orders"]
    window_days: int
    period: Literal["lifetime", "requalify"]
    requalify_months: int
    levels: tuple[Tier, ...]
    discount_exclusions: DiscountExclusions = field(default_factory=DiscountExclusions)

    @property
    def window(self) -> Span | None:
        """The rolling window the tier is decided over, None for a lifetime tier: window_spend
        looks back ``window_days``, a re-qualifying programme ``requalify_months``."""
        if self.qualify_by == "window_spend":
            return Span(days=self.window_days)
        if self.period == "requalify":
            return Span(months=self.requalify_months)
        return None

    def window_start(self, now: datetime, timezone: str) -> datetime | None:
        window = self.window
        return None if window is None else window.before(now, timezone)


@dataclass(frozen=True)
class ProgramRules:
    currency: str
    earning: EarningRule
    point_value: Decimal | None  # currency per point; None: points show no money value
    hold_days: int
    expiry: Span | None  # how long a lot stays spendable; None: points never expire
    expiry_warn_days: int
    welcome: BonusRule | None
    every_nth: EveryNthRule | None
    birthday: BonusRule | None
    max_points_per_entry: int
    max_points_per_order: int
    tiers: TierRules | None
    timezone: str = "UTC"
    cashier_redeem_limit: int | None = None  # points a cashier (not a manager) may redeem at once
    redeem_by_lookup: bool = False  # cashiers may redeem by a typed number, email or phone
    redemption: RedemptionRules = field(default_factory=RedemptionRules)  # online codes


def parse_rules(top: TableReader, currency: str, problems: list[tuple[str, str]]) -> ProgramRules:
    earning = TableReader(top.raw("earning"), "earning", problems)
    per_unit, percent = read_rate(earning, required=True)
    rule = EarningRule(
        points_per_unit=per_unit or Decimal(0),
        include_shipping=earning.boolean("include_shipping", False),
        include_tax=earning.boolean("include_tax", False),
        exclude_brands=earning.strings("exclude_brands"),
        exclude_skus=earning.strings("exclude_skus"),
        exclude_product_types=earning.strings("exclude_product_types"),
        min_order_minor=_min_order(earning, currency),
        cashback_percent=percent,
    )
    earning.finish()
    redemption = TableReader(top.raw("redemption"), "redemption", problems)
    point_value = read_point_value(redemption)
    allow_lookup = redemption.boolean("allow_lookup", False)
    online = read_redemption(redemption)
    redemption.finish()
    hold = TableReader(top.raw("hold"), "hold", problems)
    hold_days = hold.integer("days", 0, high=365) or 0
    hold.finish()
    expiry = TableReader(top.raw("expiry"), "expiry", problems)
    expires = expiry.span("days", "months")
    warn_days = expiry.integer("warn_days", 0, high=365) or 0
    if expires is not None and warn_days >= expires.shortest_days:
        expiry.fail("warn_days", f"must be fewer days than the expiry ({expires})")
    expiry.finish()
    limits = TableReader(top.raw("limits"), "limits", problems)
    per_entry = limits.integer("max_points_per_entry", 100_000, low=1) or 100_000
    per_order = limits.integer("max_points_per_order", per_entry, low=1) or per_entry
    limits.finish()
    welcome = _bonus(top.raw("welcome"), "welcome", problems, per_entry)
    birthday = _bonus(top.raw("birthday"), "birthday", problems, per_entry)
    every_nth = None
    if top.raw("every_nth") is not None:
        nth = TableReader(top.raw("every_nth"), "every_nth", problems)
        orders = nth.integer("orders", None, low=2, high=1000, required=True)
        points = nth.integer("points", None, low=1, required=True)
        _under_cap(nth, "points", points, per_entry)
        nth.finish()
        if orders and points:
            every_nth = EveryNthRule(orders, points)
    tiers = _tiers(top.raw("tiers"), currency, problems)
    levels = tiers.levels if tiers else ()
    check_cashback(
        problems,
        point_value,
        [("earning", percent)]
        + [(f"tiers.levels[{i}]", level.cashback_percent) for i, level in enumerate(levels)],
    )
    cashier = TableReader(top.raw("cashier"), "cashier", problems)
    redeem_limit = cashier.integer("max_redeem_points", None, low=1)
    cashier.finish()
    return ProgramRules(
        currency=currency,
        earning=rule,
        point_value=point_value,
        hold_days=hold_days,
        expiry=expires,
        expiry_warn_days=warn_days,
        welcome=welcome,
        every_nth=every_nth,
        birthday=birthday,
        max_points_per_entry=per_entry,
        max_points_per_order=per_order,
        tiers=tiers,
        cashier_redeem_limit=redeem_limit,
        redeem_by_lookup=allow_lookup,
        redemption=online,
    )


def _min_order(earning: TableReader, currency: str) -> int:
    amount = earning.decimal("min_order_amount", None)
    if amount is None:
        return 1
    try:
        minor = to_minor(amount, currency)
    except MoneyError as exc:
        earning.fail("min_order_amount", str(exc))
        return 1
    if minor < 1:
        earning.fail(
            "min_order_amount", "must be more than 0 (leave it out: any amount above 0 counts)"
        )
        return 1
    return minor


def _under_cap(reader: TableReader, key: str, points: int | None, cap: int) -> None:
    if points is not None and points > cap:
        reader.fail(key, f"{points} is above limits.max_points_per_entry ({cap})")


def _bonus(data: Any, path: str, problems: list[tuple[str, str]], cap: int) -> BonusRule | None:
    if data is None:
        return None
    reader = TableReader(data, path, problems)
    points = reader.integer("points", None, low=1, required=True)
    _under_cap(reader, "points", points, cap)
    expires = reader.span("expires_days", "expires_months")
    on = "first_order"
    if path == "welcome":
        on = reader.string("on", on) or on
        if on not in WELCOME_ON:
            reader.fail("on", f"must be one of {', '.join(WELCOME_ON)}")
            on = "first_order"
    reader.finish()
    return BonusRule(points, expires, on) if points else None


def _tiers(data: Any, currency: str, problems: list[tuple[str, str]]) -> TierRules | None:
    if data is None:
        return None
    reader = TableReader(data, "tiers", problems)
    qualify_by = reader.string("qualify_by", required=True) or "paid_orders"
    if qualify_by not in QUALIFY_BY:
        reader.fail("qualify_by", f"must be one of {', '.join(QUALIFY_BY)}")
        qualify_by = "paid_orders"
    window_days = reader.integer("window_days", 365, low=1, high=3650) or 365
    period = reader.string("period", "lifetime") or "lifetime"
    if period not in PERIODS:
        reader.fail("period", f"must be one of {', '.join(PERIODS)}")
        period = "lifetime"
    months = reader.integer("requalify_months", 12, low=1, high=120) or 12
    raw_levels = reader.raw("levels")
    levels: list[Tier] = []
    if not isinstance(raw_levels, list) or not raw_levels:
        reader.fail("levels", "must be a non-empty list of [[tiers.levels]]")
        raw_levels = []
    for index, raw in enumerate(raw_levels):
        level = TableReader(raw, f"tiers.levels[{index}]", problems)
        code = level.string("code", required=True) or ""
        if code and not CODE_RE.match(code):
            level.fail("code", "use lower-case letters, digits and '-'")
        name, names = read_names(level, "name")
        rate, percent = read_rate(level, required=False)
        threshold = _threshold(level, qualify_by, currency)
        discount = read_discount_percent(level)
        level.finish()
        if threshold is not None and levels and threshold <= levels[-1].threshold:
            level.fail("threshold", "thresholds must strictly increase from level to level")
        if any(t.code == code for t in levels):
            level.fail("code", f"duplicate tier code {code!r}")
        levels.append(Tier(code, name or code, threshold or 0, rate, names, percent, discount))
    exclusions = read_exclusions(reader)
    check_exclusions(reader, exclusions, [level.discount_percent for level in levels])
    reader.finish()
    return TierRules(qualify_by, window_days, period, months, tuple(levels), exclusions)  # type: ignore[arg-type]


def _threshold(level: TableReader, qualify_by: str, currency: str) -> int | None:
    if qualify_by == "paid_orders":
        return level.integer("threshold", None, low=0, high=100_000, required=True)
    amount = level.decimal("threshold", None, required=True)
    if amount is None:
        return None
    try:
        return to_minor(amount, currency)
    except MoneyError as exc:
        level.fail("threshold", str(exc))
        return None
