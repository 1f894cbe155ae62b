"""Segments' stored state: each card's RFM scores (rewritten by the daily job) and the daily
size of every segment (the dashboard's segment sizes over time)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class RfmScore(Model):
    """A card's recency, frequency and monetary quintiles (1 to 5, within its programme) and the
    RFM group they put it in; cards without a paid order have none."""

    __tablename__ = "rfm_scores"
    __table_args__ = (Index("ix_rfm_scores_group", "program_id", "rfm_group"),)

    # no foreign keys: a derived table rewritten whole by one statement, where PostgreSQL's
    # per-row constraint triggers cost more than the scoring (bench/segments.py)
    card_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    program_id: Mapped[int] = mapped_column(BigId)
    recency: Mapped[int] = mapped_column(SmallInteger)
    frequency: Mapped[int] = mapped_column(SmallInteger)
    monetary: Mapped[int] = mapped_column(SmallInteger)
    rfm_group: Mapped[str] = mapped_column(String(30))
    scored_at: Mapped[datetime]


class SegmentSize(Model):
    """How many cards a segment held on a day (the programme's local date)."""

    __tablename__ = "segment_sizes"
    __table_args__ = (PrimaryKeyConstraint("program_id", "day", "segment"),)

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    day: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(63))
    size: Mapped[int] = mapped_column(BigInteger)
