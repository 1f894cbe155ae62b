"""``[referral]``: members bring friends (docs/referrals.md).

``referrer_points`` are paid to the member whose link (``/r/<code>``) a friend came through,
once the friend's first paid order clears the hold; ``friend_reward`` goes to the friend when
they join with the code (or with their first order carrying it): points (a whole number), or
a single-use discount code made in the programme's shop (``{ discount = "10.00",
expires_days = 30 }``, created by the scheduled jobs through the shop's admin API);
``max_per_month`` caps what one referrer is paid per calendar month in the programme's time
zone (0 or absent: no cap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletcards.loyalty.config_reader import TableReader
from walletcards.money import MoneyError, to_minor

Problems = list[tuple[str, str]]
DISCOUNT_DAYS = 30  # how long the friend's discount code lasts unless the file says


@dataclass(frozen=True)
class ReferralTable:
    referrer_points: int
    friend_reward: int = 0  # points; 0: the friend gets no points beyond the usual welcome
    max_per_month: int | None = None  # paid referrals per referrer and calendar month
    friend_discount_minor: int | None = None  # the friend's discount code instead of points
    friend_discount_days: int = DISCOUNT_DAYS


def _discount(data: Any, currency: str, problems: Problems) -> tuple[int | None, int]:
    reader = TableReader(data, "referral.friend_reward", problems)
    amount = reader.string("discount", None, max_length=40, required=True)
    days = reader.integer("expires_days", DISCOUNT_DAYS, low=1, high=3650)
    reader.finish()
    minor = None
    if amount is not None:
        try:
            minor = to_minor(amount, currency)
        except MoneyError:
            minor = None
        if minor is None or minor <= 0:
            reader.fail("discount", f'a positive amount in {currency}, e.g. "10.00"')
            minor = None
    return minor, days or DISCOUNT_DAYS


def read_referral(data: Any, currency: str, problems: Problems) -> ReferralTable | None:
    if data is None:
        return None
    reader = TableReader(data, "referral", problems)
    referrer = reader.integer("referrer_points", None, low=1, required=True)
    friend = reader.raw("friend_reward")
    discount, days = None, DISCOUNT_DAYS
    friend_points: int | None = 0
    if isinstance(friend, dict):
        discount, days = _discount(friend, currency, problems)
    elif isinstance(friend, str):
        reader.fail(
            "friend_reward",
            'points (a whole number, e.g. 100) or a discount code ({ discount = "10.00" })',
        )
    else:
        friend_points = reader.integer("friend_reward", 0)
    cap = reader.integer("max_per_month", None, high=10_000)
    reader.finish()
    return ReferralTable(referrer or 1, friend_points or 0, cap or None, discount, days)
