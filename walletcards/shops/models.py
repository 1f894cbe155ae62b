"""What walletcards keeps about the shops' own customers: the tier tag each should carry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class ShopTierTag(Model):
    """The tier a card's customer should carry in the programme's shop (Shopify tag
    ``loyalty-tier:<code>``, WooCommerce meta ``walletcards_tier``): one row per card, set on
    every tier change (``revision`` + 1), sent by the jobs (shops/tier_jobs.py) outside any
    transaction. ``status``: pending (due at ``next_attempt_at``, which is also the lease while
    a job sends it) | done | failed (the shop refused, or stayed unavailable too long)."""

    __tablename__ = "shop_tier_tags"
    __table_args__ = (Index("ix_shop_tier_tags_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), unique=True)
    platform: Mapped[str] = mapped_column(String(20))  # shopify | woocommerce
    customer_ref: Mapped[str] = mapped_column(String(200))  # the shop's own customer id
    tier_code: Mapped[str | None] = mapped_column(String(63))  # None: no tier (tags removed)
    previous_code: Mapped[str | None] = mapped_column(String(63))  # the tier before, removed
    revision: Mapped[int] = mapped_column(Integer)  # + 1 per change: a stale send is not done
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime]  # the tier change (the first of a retried run: give-up clock)
    done_at: Mapped[datetime | None]
