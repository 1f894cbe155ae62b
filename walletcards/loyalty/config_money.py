"""Earn rates and the money value of a point, as a programme file states them.

An earn rate is either ``points_per_unit`` (points per whole currency unit) or
``cashback_percent`` (a share of the eligible amount given back as points, converted through
``[redemption] point_value``: points = eligible * percent / 100 / point_value, rounded down
once per order). ``[earning]`` names exactly one of them, a tier level at most one. Without
``point_value`` points have no stated money value: nothing shows one, and percentages are
refused (there is nothing to convert them through).
"""

from __future__ import annotations

from decimal import Decimal

from walletcards.loyalty.config_reader import TableReader


def read_rate(reader: TableReader, *, required: bool) -> tuple[Decimal | None, Decimal | None]:
    """(points_per_unit, cashback_percent) of ``[earning]`` or a ``[[tiers.levels]]`` table."""
    per_unit = reader.decimal("points_per_unit", None)
    percent = reader.decimal("cashback_percent", None)
    if percent is not None and not 0 < percent <= 100:
        reader.fail("cashback_percent", 'a percentage above 0 and at most 100, e.g. "5"')
        percent = None
    if per_unit is not None and reader.raw("cashback_percent") is not None:
        reader.fail("cashback_percent", "set points_per_unit or cashback_percent, not both")
    elif required and per_unit is None and reader.raw("cashback_percent") is None:
        reader.fail("points_per_unit", "is required (or cashback_percent)")
    return per_unit, percent


def read_point_value(reader: TableReader) -> Decimal | None:
    """``[redemption] point_value``: currency per point, above 0; None when unset."""
    value = reader.decimal("point_value", None)
    if value is not None and value <= 0:
        reader.fail("point_value", 'must be above 0 (currency per point, e.g. "0.01")')
        return None
    return value


def check_cashback(
    problems: list[tuple[str, str]],
    point_value: Decimal | None,
    percents: list[tuple[str, Decimal | None]],
) -> None:
    """A percentage earn rate needs ``point_value``; ``percents`` are (table path, percent)."""
    if point_value is not None:
        return
    for where, percent in percents:
        if percent is not None:
            problems.append(
                (
                    f"{where}.cashback_percent",
                    "needs [redemption] point_value to turn a percentage into points",
                )
            )
