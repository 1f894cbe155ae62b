"""What we last told Google about a card (to decide what is worth a notification), and the
notifying updates sent (Google allows 3 per pass per 24 hours)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class GoogleObject(Model):
    __tablename__ = "google_objects"

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(255))
    tier_code: Mapped[str | None] = mapped_column(String(63))
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    expiring_points: Mapped[int] = mapped_column(BigInteger, default=0)
    synced_at: Mapped[datetime | None]


class GoogleNotification(Model):
    __tablename__ = "google_notifications"
    __table_args__ = (Index("ix_google_notifications_card_sent", "card_id", "sent_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    sent_at: Mapped[datetime]
