"""Scheduled: pending referrals settled (loyalty/referrals.py), one transaction each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from walletcards.db import Database
from walletcards.loyalty import referrals
from walletcards.loyalty.referral_models import Referral

BATCH = 1000


def settle_referrals(database: Database, now: datetime) -> int:
    """Pay, cap or cancel the pending referrals whose friend's first order is decided;
    returns how many changed. Idempotent: a settled referral is never looked at again."""
    with database.transaction() as session:
        ids = list(
            session.execute(
                select(Referral.id)
                .where(Referral.status == "pending")
                .order_by(Referral.id)
                .limit(BATCH)
            ).scalars()
        )
    changed = 0
    for referral_id in ids:
        with database.transaction() as session:
            if referrals.settle(session, referral_id, now) is not None:
                changed += 1
    return changed
