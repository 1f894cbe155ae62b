"""A tier's price discount, as pure arithmetic (no session, no clock): what part of a purchase
is discountable, the discount in minor units and what is left to pay.

Rounding: the discount is computed once per purchase on the discountable total (not per line),
exactly (rational arithmetic), and rounded half up to the currency's minor unit ($12.35 at 10 %
is $1.24 off; ¥1,235 at 10 % is ¥124 off). The discount never exceeds the discountable amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from walletcards.loyalty.config_tier_discount import DiscountExclusions
from walletcards.loyalty.rules import OrderLine


@dataclass(frozen=True)
class PriceQuote:
    """A purchase of ``amount_minor`` at ``percent`` off its ``discountable_minor`` part."""

    amount_minor: int
    discountable_minor: int
    percent: Decimal | None  # None: the card's tier gives no discount
    discount_minor: int

    @property
    def to_pay_minor(self) -> int:
        return self.amount_minor - self.discount_minor


def discountable_minor(
    exclusions: DiscountExclusions, amount_minor: int, lines: Sequence[OrderLine] = ()
) -> int:
    """The part of a purchase the discount applies to: without lines, all of it; with lines
    (which add up to the amount), those not excluded by brand, SKU or product type."""
    if not lines:
        return amount_minor
    return sum(
        line.amount_minor
        for line in lines
        if not exclusions.excludes(line.sku, line.brand, line.product_type)
    )


def discount_minor(discountable: int, percent: Decimal) -> int:
    """``percent`` of ``discountable`` minor units, rounded half up, at most all of it."""
    exact = Fraction(discountable) * Fraction(percent) / 100
    return min(discountable, int(exact + Fraction(1, 2)))  # floor(x + ½): half up (x >= 0)


def quote_price(
    exclusions: DiscountExclusions,
    percent: Decimal | None,
    amount_minor: int,
    lines: Sequence[OrderLine] = (),
) -> PriceQuote:
    """The discount a purchase gets at ``percent`` (None: no discount)."""
    discountable = discountable_minor(exclusions, amount_minor, lines)
    off = 0 if percent is None else discount_minor(discountable, percent)
    return PriceQuote(amount_minor, discountable, percent, off)


def most_discount_minor(percent: Decimal, price_minor: int) -> int:
    """The most a tier of ``percent`` can take off a price (nothing excluded): what a till may
    record as the discount it gave."""
    return discount_minor(price_minor, percent)
