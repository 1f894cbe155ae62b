"""Referral: one friend brought by one member's link (walletcards/loyalty/referrals.py).

``status``: ``pending`` (waiting for the friend's first paid order to clear the hold),
``paid`` (the referrer was credited), ``cancelled`` (self-referral, or the order was refunded
or cancelled inside the hold; ``reason`` says which), ``capped`` (the referrer had reached
``[referral] max_per_month``). A friend is referred at most once per programme.

The friend's discount code (``[referral] friend_reward = { discount = ... }``): ``friend_code``
is fixed when the reward is granted, then made in the shop by the scheduled jobs
(shops/friend_codes.py): ``friend_code_state`` pending -> live (``friend_shop_code_id``) or
failed (``friend_code_error``); None when the reward is points or nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model

STATUSES = ("pending", "paid", "cancelled", "capped")
VIA = ("join", "order")
CODE_STATES = ("pending", "live", "failed")


class Referral(Model):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("program_id", "friend_card_id"),
        Index("ix_referrals_referrer", "referrer_card_id", "status", "settled_at"),
        Index("ix_referrals_program_status", "program_id", "status"),
        Index("ix_referrals_friend_code_state", "friend_code_state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    referrer_card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    friend_card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    via: Mapped[str] = mapped_column(String(20))  # VIA
    status: Mapped[str] = mapped_column(String(20))  # STATUSES
    reason: Mapped[str | None] = mapped_column(String(200))  # why cancelled or capped
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]  # paid, cancelled or capped
    friend_code: Mapped[str | None] = mapped_column(String(64))
    friend_code_minor: Mapped[int | None] = mapped_column(BigInteger)
    friend_code_expires_at: Mapped[datetime | None]
    friend_code_state: Mapped[str | None] = mapped_column(String(20))  # CODE_STATES
    friend_shop_code_id: Mapped[str | None] = mapped_column(String(200))
    friend_code_error: Mapped[str | None] = mapped_column(Text)
