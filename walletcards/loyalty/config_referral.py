"""``[referral]``: members bring friends (docs/referrals.md).

``referrer_points`` are paid to the member whose link (``/r/<code>``) a friend came through,
once the friend's first paid order clears the hold; ``friend_reward`` points go to the friend
when they join with the code (or with their first order carrying it); ``max_per_month`` caps
what one referrer is paid per calendar month in the programme's time zone (0 or absent: no
cap). A discount code as the friend's reward is not offered yet: the file says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletcards.loyalty.config_reader import TableReader

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class ReferralTable:
    referrer_points: int
    friend_reward: int = 0  # points; 0: the friend gets nothing beyond the usual welcome
    max_per_month: int | None = None  # paid referrals per referrer and calendar month


def read_referral(data: Any, problems: Problems) -> ReferralTable | None:
    if data is None:
        return None
    reader = TableReader(data, "referral", problems)
    referrer = reader.integer("referrer_points", None, low=1, required=True)
    friend = reader.raw("friend_reward")
    if isinstance(friend, (dict, str)):
        reader.fail(
            "friend_reward",
            "a discount code as the friend's reward is not supported yet; give points "
            "(a whole number, e.g. 100)",
        )
        friend_points: int | None = 0
    else:
        friend_points = reader.integer("friend_reward", 0)
    cap = reader.integer("max_per_month", None, high=10_000)
    reader.finish()
    return ReferralTable(referrer or 1, friend_points or 0, cap or None)
