"""Tier benefits as a programme file states them: ``[[tiers.levels]] discount_percent`` (a price
discount the level gives, at the till and, through the shop's own automatic discount, online;
docs/tier-discounts.md) and ``[tiers] discount_exclude_brands`` / ``discount_exclude_skus`` /
``discount_exclude_product_types`` (lines never discounted, matched case-insensitively).

A level's discount sits beside its earn rate or instead of it (``points_per_unit = "0"``);
without a rate of its own a level earns at ``[earning]``'s. Points are earned on what the
customer paid, after the discount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from walletcards.loyalty.config_reader import TableReader

MAX_PERCENT_PLACES = 2  # "7.5", "12.25"; a finer percentage is a typo
MAX_EXCLUDED = 1000  # entries in each exclusion list
MAX_NAME = 200  # characters of a brand, SKU or product type (what a shop's line carries)
EXCLUDE_KEYS = (
    "discount_exclude_brands",
    "discount_exclude_skus",
    "discount_exclude_product_types",
)


@dataclass(frozen=True)
class DiscountExclusions:
    """Lines a tier discount never applies to (names case-folded)."""

    brands: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    product_types: frozenset[str] = frozenset()

    def excludes(self, sku: str | None, brand: str | None, product_type: str | None) -> bool:
        def norm(value: str | None) -> str:
            return (value or "").strip().casefold()

        return (
            norm(sku) in self.skus
            or norm(brand) in self.brands
            or norm(product_type) in self.product_types
        )

    def __bool__(self) -> bool:
        return bool(self.brands or self.skus or self.product_types)


def read_discount_percent(level: TableReader) -> Decimal | None:
    """A level's ``discount_percent``: above 0, at most 100, at most two decimals."""
    percent = level.decimal("discount_percent", None)
    if percent is None:
        return None
    if not 0 < percent <= 100:
        level.fail("discount_percent", 'a percentage above 0 and at most 100, e.g. "10"')
        return None
    if percent != percent.quantize(Decimal(1).scaleb(-MAX_PERCENT_PLACES)):
        level.fail("discount_percent", f'at most {MAX_PERCENT_PLACES} decimals, e.g. "7.5"')
        return None
    # one spelling per value ("10.0" is "10"), as the till's answers show it
    return percent.quantize(Decimal(1)) if percent == percent.to_integral() else percent.normalize()


def read_exclusions(tiers: TableReader) -> DiscountExclusions:
    """The three ``[tiers] discount_exclude_*`` lists, each bounded."""
    brands, skus, types = (_names(tiers, key) for key in EXCLUDE_KEYS)
    return DiscountExclusions(brands, skus, types)


def _names(reader: TableReader, key: str) -> frozenset[str]:
    value = reader.raw(key)
    if value is None:
        return frozenset()
    if (
        not isinstance(value, list)
        or len(value) > MAX_EXCLUDED
        or not all(
            isinstance(v, str) and v.strip() and len(v) <= MAX_NAME and "\x00" not in v
            for v in value
        )
    ):
        reader.fail(
            key,
            f"must be a list of at most {MAX_EXCLUDED} non-empty strings "
            f"of at most {MAX_NAME} characters",
        )
        return frozenset()
    return frozenset(v.strip().casefold() for v in value)


def check_exclusions(
    tiers: TableReader, exclusions: DiscountExclusions, percents: list[Decimal | None]
) -> None:
    """Exclusions without any level giving a discount are a mistake worth naming."""
    if exclusions and not any(percents):
        for key in EXCLUDE_KEYS:
            if tiers.raw(key):
                tiers.fail(key, "no [[tiers.levels]] gives a discount_percent to exclude from")
