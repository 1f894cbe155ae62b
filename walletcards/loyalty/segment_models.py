"""Segments' stored state: each programme's RFM cut points (rewritten by the daily job) and the
daily size of every segment (the dashboard's segment sizes over time)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    PrimaryKeyConstraint,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import Model


class RfmCuts(Model):
    """A programme's RFM quintile boundaries as last scored (loyalty/segments.py): the 20th,
    40th, 60th and 80th percentiles (percentile_disc) of its cards' last order time (r1-r4),
    live order count (f1-f4) and net spend (m1-m4); a card's scores are read off them."""

    __tablename__ = "rfm_cuts"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    scored_at: Mapped[datetime]
    scored: Mapped[int] = mapped_column(BigInteger)  # cards with a live order then
    sampled: Mapped[int] = mapped_column(BigInteger)  # how many of them the cuts came from
    r1: Mapped[datetime]
    r2: Mapped[datetime]
    r3: Mapped[datetime]
    r4: Mapped[datetime]
    f1: Mapped[int] = mapped_column(BigInteger)
    f2: Mapped[int] = mapped_column(BigInteger)
    f3: Mapped[int] = mapped_column(BigInteger)
    f4: Mapped[int] = mapped_column(BigInteger)
    m1: Mapped[int] = mapped_column(BigInteger)
    m2: Mapped[int] = mapped_column(BigInteger)
    m3: Mapped[int] = mapped_column(BigInteger)
    m4: Mapped[int] = mapped_column(BigInteger)


class SegmentSize(Model):
    """How many cards a segment held on a day (the programme's local date)."""

    __tablename__ = "segment_sizes"
    __table_args__ = (PrimaryKeyConstraint("program_id", "day", "segment"),)

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    day: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(63))
    size: Mapped[int] = mapped_column(BigInteger)
