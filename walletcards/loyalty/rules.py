"""Pure loyalty rules: points for an order, tier for a history, bonuses and progress.

No database and no clock here: callers pass every fact in, tests call these directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from walletcards.loyalty.config_rules import EarningRule, ProgramRules, Tier, TierRules
from walletcards.loyalty.periods import Span
from walletcards.money import floor_points


@dataclass(frozen=True)
class OrderLine:
    """One line, its amount already net of line discounts and multiplied by quantity."""

    amount_minor: int
    sku: str | None = None
    brand: str | None = None
    product_type: str | None = None


@dataclass(frozen=True)
class OrderFacts:
    """What a shop told us about a paid order, in the programme's currency (minor units)."""

    source: str
    external_id: str
    currency: str
    paid_at: datetime
    lines: tuple[OrderLine, ...]
    shipping_minor: int = 0
    tax_minor: int = 0

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines) + self.shipping_minor + self.tax_minor


@dataclass(frozen=True)
class RefundInfo:
    """One refund. With ``lines`` (Shopify, ours) the eligible part is computed by the
    programme's earning rule; with only ``amount_minor`` (WooCommerce, ours) it is pro rata."""

    key: str
    lines: tuple[OrderLine, ...] = ()
    shipping_minor: int = 0
    tax_minor: int = 0
    amount_minor: int | None = None


def _excluded(rule: EarningRule, line: OrderLine) -> bool:
    def norm(value: str | None) -> str:
        return (value or "").strip().casefold()

    return (
        norm(line.sku) in rule.exclude_skus
        or norm(line.brand) in rule.exclude_brands
        or norm(line.product_type) in rule.exclude_product_types
    )


def eligible_minor(rule: EarningRule, facts: OrderFacts | RefundInfo) -> int:
    """The part of an order (or of a refund's lines) that earns points: lines not excluded
    (+ shipping/tax if enabled)."""
    amount = sum(line.amount_minor for line in facts.lines if not _excluded(rule, line))
    if rule.include_shipping:
        amount += facts.shipping_minor
    if rule.include_tax:
        amount += facts.tax_minor
    return max(amount, 0)


def refund_amounts(rule: EarningRule, refund: RefundInfo) -> tuple[int, int | None]:
    """(refunded in total, refunded of the eligible part) for one refund. A bare amount's
    eligible part is pro rata to its order (:func:`pro_rata_eligible`): None here, as the
    order may not be known yet."""
    if refund.amount_minor is not None:
        return refund.amount_minor, None
    total = sum(line.amount_minor for line in refund.lines)
    return total + refund.shipping_minor + refund.tax_minor, eligible_minor(rule, refund)


def pro_rata_eligible(order_total: int, order_eligible: int, refunded: int) -> int:
    """The eligible part of a refund given only as an amount (minor units): pro rata to the
    order's total, rounded down."""
    if not order_total:
        return 0
    return refunded * order_eligible // order_total


def earning_rate(rules: ProgramRules, tier: Tier | None) -> Fraction:
    """Points per whole currency unit, exactly: the tier's own rate if it names one, else the
    programme's; a cashback percentage is percent / 100 / point_value (config_money.py)."""
    for source in (tier, rules.earning):
        if source is not None and source.cashback_percent is not None:
            assert rules.point_value is not None  # the programme file refuses it otherwise
            return Fraction(source.cashback_percent) / 100 / Fraction(rules.point_value)
        if source is not None and source.points_per_unit is not None:
            return Fraction(source.points_per_unit)
    return Fraction(0)


def points_for(amount_minor: int, rate: Decimal | Fraction, currency: str) -> int:
    """Points for an eligible amount, rounded down once per order (never over-award)."""
    return floor_points(amount_minor, rate, currency)


def tier_for(tiers: TierRules, metric: int) -> Tier | None:
    """The highest level whose threshold the metric reaches (thresholds are inclusive)."""
    reached = None
    for level in tiers.levels:
        if metric >= level.threshold:
            reached = level
    return reached


def next_tier(tiers: TierRules, metric: int, current: str | None = None) -> tuple[Tier, int] | None:
    """The next level up (above ``current``, the card's tier, which an imported tier floor may
    hold above the metric) and how much of the metric is still missing, or None at the top."""
    rank = tier_rank(tiers, current)
    for index, level in enumerate(tiers.levels, start=1):
        if metric < level.threshold and index > rank:
            return level, level.threshold - metric
    return None


def with_floor(
    tiers: TierRules, computed: Tier | None, floor: str | None, active: bool
) -> Tier | None:
    """The tier the history earns, raised to a card's tier floor (an imported tier, see
    admin/importer.py) while the floor is ``active``; a floor naming no level is ignored."""
    held = tier_by_code(tiers, floor) if active else None
    if held is None or (computed is not None and computed.threshold >= held.threshold):
        return computed
    return held


def tier_by_code(tiers: TierRules | None, code: str | None) -> Tier | None:
    if tiers is None or code is None:
        return None
    return next((level for level in tiers.levels if level.code == code), None)


def tier_rank(tiers: TierRules | None, code: str | None) -> int:
    """0 for no tier, 1 for the first level, …; unknown codes (a removed level) rank 0."""
    if tiers is None or code is None:
        return 0
    for index, level in enumerate(tiers.levels, start=1):
        if level.code == code:
            return index
    return 0


def orders_to_nth_reward(paid_orders: int, every: int) -> int:
    """Counting orders still needed for the next every-Nth reward (N right after a reward)."""
    return every - (paid_orders % every)


def nth_rewards_due(paid_orders: int, every: int) -> int:
    """Every-Nth rewards a card holds with this many counting orders: one per full N."""
    return paid_orders // every


def birthday_in(birthday: date, year: int) -> date:
    """A customer's birthday in ``year``; 29 February falls on 28 February in other years."""
    try:
        return birthday.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def lot_dates(
    start: datetime, hold_days: int, expires: Span | None, timezone: str
) -> tuple[datetime, datetime | None]:
    """(available_at, expires_at): held for ``hold_days``, then spendable for ``expires`` (days
    or calendar months in the programme's time zone)."""
    available_at = start + timedelta(days=hold_days)
    expires_at = None if expires is None else expires.after(available_at, timezone)
    return available_at, expires_at


def counts(rule: EarningRule, eligible_minor: int) -> bool:
    """Whether an order with this eligible amount (net of refunds) counts towards the welcome
    bonus, every-Nth rewards and order-count tiers."""
    return eligible_minor >= rule.min_order_minor


def reversal_target(earned: int, eligible_minor: int, refunded_eligible_minor: int) -> int:
    """Points to have reversed in total once ``refunded_eligible_minor`` of the order is refunded.

    Pro rata, rounded down, so partial refunds never take back more than earned and a full
    refund takes back exactly what was earned."""
    if eligible_minor <= 0 or refunded_eligible_minor >= eligible_minor:
        return earned
    return earned * refunded_eligible_minor // eligible_minor
