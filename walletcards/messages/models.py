"""A message to a programme's members and its recipients (one row per card in its audience).

A recipient row is ``sent`` (the card carries the message from ``card_version`` on) or
``skipped`` with the reason (``no_consent``, ``cap``, ``no_device``). ``pushed_at``: when APNs
accepted a push of a version carrying it; ``fetched_at``: when the phone then fetched such a
version from the PassKit web service; ``google_at``: when Google took the message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model

SCHEDULED, SENDING, SENT, CANCELLED = "scheduled", "sending", "sent", "cancelled"
MARKETING, SERVICE = "marketing", "service"
SKIPPED = "skipped"
NO_CONSENT, CAP, NO_DEVICE = "no_consent", "cap", "no_device"


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_program_created", "program_id", "created_at"),
        Index("ix_messages_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    kind: Mapped[str] = mapped_column(String(20))  # marketing | service
    text: Mapped[dict[str, Any]] = mapped_column(JSON)  # language -> text
    link: Mapped[str | None] = mapped_column(String(500))
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)  # as the API took it
    channels: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    audience_size: Mapped[int] = mapped_column(Integer, default=0)
    send_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    # the sending's progress: recipients are added in card id order, batch by batch
    last_card_id: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime | None]  # the first batch (the weekly cap counts from it)
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # when its expiry was pushed (the cards it went to updated once more, without it)
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class MessageRecipient(Model):
    __tablename__ = "message_recipients"
    __table_args__ = (
        UniqueConstraint("message_id", "card_id"),
        Index("ix_message_recipients_card_status", "card_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # no foreign keys (migration 0028): written only by the sending step from rows it just
    # read, a million at a time; neither messages nor cards are ever deleted
    message_id: Mapped[int] = mapped_column(BigId)
    card_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(10))  # sent | skipped
    card_version: Mapped[int | None] = mapped_column(BigInteger)  # the first carrying it
    pushed_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime | None]
    google_at: Mapped[datetime | None]
    skipped_reason: Mapped[str | None] = mapped_column(String(20))
