"""Scheduled: pending referrals settled (loyalty/referrals.py), one transaction each; the
referred friends' discount codes made in the shop (shops/friend_codes.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select

from walletcards.db import Database
from walletcards.loyalty import referrals
from walletcards.loyalty.models import Order
from walletcards.loyalty.referral_models import Referral
from walletcards.shops.friend_codes import make_friend_codes

__all__ = ["make_friend_codes", "settle_referrals"]

BATCH = 1000


def settle_referrals(database: Database, now: datetime) -> int:
    """Pay, cap or cancel the pending referrals whose friend has ordered (the others have
    nothing to decide), in pages by id; returns how many changed. Idempotent: a settled
    referral is never looked at again."""
    changed, after = 0, 0
    while True:
        with database.transaction() as session:
            ids = list(
                session.execute(
                    select(Referral.id)
                    .where(
                        Referral.status == "pending",
                        Referral.id > after,
                        exists().where(Order.card_id == Referral.friend_card_id),
                    )
                    .order_by(Referral.id)
                    .limit(BATCH)
                ).scalars()
            )
        for referral_id in ids:
            with database.transaction() as session:
                if referrals.settle(session, referral_id, now) is not None:
                    changed += 1
        if len(ids) < BATCH:
            return changed
        after = ids[-1]
