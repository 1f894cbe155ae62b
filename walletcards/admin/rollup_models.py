"""The dashboard's daily roll-ups: one row per programme and closed local day with the
figures its series reads from the ledger, orders and cards (admin/rollups.py writes them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import Model


class DailyRollup(Model):
    """A local day ``day`` in time zone ``zone`` (a row of another zone than the programme's
    current one is ignored and rewritten): cards issued, points credited (earn, bonus), points
    spent (redeem less restore), members' orders (not cancelled) and repeat orders."""

    __tablename__ = "daily_rollups"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    new_members: Mapped[int] = mapped_column(BigInteger)
    issued: Mapped[int] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger)
    repeat_orders: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime]
