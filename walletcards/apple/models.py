"""Devices registered for a card's pass (PassKit web service), and the devices' error logs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class AppleRegistration(Model):
    __tablename__ = "apple_registrations"
    __table_args__ = (UniqueConstraint("device_library_id", "card_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    device_library_id: Mapped[str] = mapped_column(String(128), index=True)
    push_token: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AppleLog(Model):
    __tablename__ = "apple_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
