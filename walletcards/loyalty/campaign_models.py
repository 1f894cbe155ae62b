"""What each campaign paid, card by card: one row per campaign credit (the ledger entry holds
the points; this row says which campaign and occurrence they came from and how many of them
were taken back), so the campaign's reach and points paid are one grouped query, a gift's
audience an anti-join, and a refund finds its order's campaign credits by the order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class CampaignGrant(Model):
    __tablename__ = "campaign_grants"
    __table_args__ = (
        CheckConstraint(
            "points_reversed >= 0 AND points_reversed <= points", name="reversed_in_range"
        ),
        Index("ix_campaign_grants_campaign", "program_id", "campaign", "occurrence", "card_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    campaign: Mapped[str] = mapped_column(String(63))  # the campaign's code
    occurrence: Mapped[str] = mapped_column(String(10))  # its window's local start date
    kind: Mapped[str] = mapped_column(String(20))  # multiplier | bonus | gift | streak
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]


class CampaignRun(Model):
    """One occurrence of a campaign as the scheduled job saw it: when its start and its end
    were announced (every card of the audience got a new version, so the wallets show the
    campaign line, then drop it), each once."""

    __tablename__ = "campaign_runs"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(63), primary_key=True)
    occurrence: Mapped[str] = mapped_column(String(10), primary_key=True)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
