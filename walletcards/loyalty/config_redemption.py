"""``[redemption]``'s rules for online codes (reservations): how many points, how long a code
lives, what it looks like, where the customer spends it.

``point_value`` (currency per point) is read with the earn rates (``config_money``); a
programme without it cannot reserve points (a code must be worth an amount of money).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from walletcards.loyalty.config_reader import MAX_POINTS, TableReader

PREFIX = re.compile(r"[A-Z0-9][A-Z0-9-]{0,15}")
MAX_STEPS = 20


@dataclass(frozen=True)
class RedemptionRules:
    min_points: int = 1
    max_points: int | None = None  # per code; None: up to the balance
    max_share: Decimal | None = None  # percent of an order's subtotal a code may pay
    steps: tuple[int, ...] = ()  # fixed choices; empty: any amount within the bounds
    code_days: int = 7
    code_prefix: str = ""
    shop_url: str | None = None

    def refusal(self, points: int) -> str | None:
        """Why these rules refuse to reserve ``points``, None if they allow it."""
        if self.steps and points not in self.steps:
            return f"{points} points is not one of {', '.join(map(str, self.steps))}"
        if points < self.min_points:
            return f"reserve at least {self.min_points} points, not {points}"
        if self.max_points is not None and points > self.max_points:
            return f"reserve at most {self.max_points} points, not {points}"
        return None

    def minimum_order_minor(self, value_minor: int) -> int | None:
        """The least order subtotal (before the code, minor units) a code worth
        ``value_minor`` may pay towards under ``max_share``: value / share, rounded up; None
        without ``max_share``. The shops get it as the code's minimum purchase."""
        if self.max_share is None:
            return None
        return math.ceil(Fraction(value_minor) * 100 / Fraction(self.max_share))

    def share_exceeded(self, value_minor: int, order_minor: int) -> bool:
        """Whether a code worth ``value_minor`` pays more than ``max_share`` of an order whose
        subtotal before the code is ``order_minor``."""
        least = self.minimum_order_minor(value_minor)
        return least is not None and order_minor < least


def read_redemption(reader: TableReader) -> RedemptionRules:
    """The online-redemption keys of ``[redemption]`` (the caller finishes the table)."""
    default = RedemptionRules()
    min_points = reader.integer("min_points", 1, low=1) or 1
    max_points = reader.integer("max_points", None, low=1)
    if max_points is not None and max_points < min_points:
        reader.fail("max_points", f"must be at least min_points ({min_points})")
        max_points = None
    max_share = reader.decimal("max_share", None)
    if max_share is not None and not 0 < max_share <= 100:
        reader.fail("max_share", 'a percentage of the order above 0 and at most 100, e.g. "50"')
        max_share = None
    return RedemptionRules(
        min_points=min_points,
        max_points=max_points,
        max_share=max_share,
        steps=_steps(reader, min_points, max_points),
        code_days=reader.integer("code_days", default.code_days, low=1, high=365)
        or default.code_days,
        code_prefix=_prefix(reader),
        shop_url=_shop_url(reader),
    )


def _steps(reader: TableReader, low: int, high: int | None) -> tuple[int, ...]:
    value = reader.raw("steps")
    if value is None:
        return ()
    top = MAX_POINTS if high is None else high
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_STEPS
        or not all(type(v) is int and low <= v <= top for v in value)
    ):
        reader.fail(
            "steps", f"must be a list of 1 to {MAX_STEPS} whole numbers from {low} to {top}"
        )
        return ()
    return tuple(sorted(set(value)))


def _prefix(reader: TableReader) -> str:
    value = reader.string("code_prefix", None, max_length=16)
    if value is None:
        return ""
    if not PREFIX.fullmatch(value):
        reader.fail("code_prefix", 'up to 16 capital letters, digits and "-", e.g. "SHOP-"')
        return ""
    return value


def _shop_url(reader: TableReader) -> str | None:
    value = reader.string("shop_url", None, max_length=500)
    if value is not None and not re.fullmatch(r"https?://[^\s/]+\S*", value):
        reader.fail("shop_url", 'must be an http(s) address, e.g. "https://shop.example"')
        return None
    return value
