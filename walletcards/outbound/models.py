"""The outbox: card emails and outbound events, each with its delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class OutboxEmail(Model):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        Index("ix_outbox_emails_due", "status", "next_attempt_at"),
        Index("ix_outbox_emails_message_ref", "message_ref", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    recipient: Mapped[str | None] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # the Message-ID header
    status: Mapped[str] = mapped_column(String(20))  # pending | sent | skipped | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # an owner's message sent by email (walletcards/messages/email.py), else the card email;
    # a skipped one says why in ``last_error`` (no_email, no_consent, cap)
    message_ref: Mapped[int | None] = mapped_column(BigInteger)


class OutboundEvent(Model):
    __tablename__ = "outbound_events"
    __table_args__ = (
        Index("ix_outbound_events_due", "status", "next_attempt_at"),
        UniqueConstraint("event_id", "endpoint_url"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)  # the receiver's dedupe key
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    endpoint_url: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed | paused
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_status: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class PausedEndpoint(Model):
    """An endpoint that failed for 3 days: its events wait until an operator resumes it."""

    __tablename__ = "paused_endpoints"
    __table_args__ = (UniqueConstraint("program_id", "endpoint_url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    endpoint_url: Mapped[str] = mapped_column(String(500))
    paused_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
