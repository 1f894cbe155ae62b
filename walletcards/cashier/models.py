"""The till's idempotency records and the rotating card codes already spent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class TillRequest(Model):
    """A write's answer, kept under its Idempotency-Key: a retry gets the same answer."""

    __tablename__ = "till_requests"
    __table_args__ = (UniqueConstraint("staff_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class RotatingCodeUse(Model):
    """A Google rotating code (TOTP time step) that redeemed points from a card: a step is spent
    once, and no earlier step is accepted after it (RFC 6238 section 5.2)."""

    __tablename__ = "rotating_code_uses"
    __table_args__ = (UniqueConstraint("card_id", "step"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    step: Mapped[int] = mapped_column(BigInteger)  # unix time // 30 of the code
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    used_at: Mapped[datetime]


class TillDiscount(Model):
    """The tier discount a till gave on a purchase (``earn`` with ``discount``): the order
    earned on what the customer paid (``Order.total_minor``); this keeps what was taken off,
    at which percentage, and the price before it."""

    __tablename__ = "till_discounts"
    __table_args__ = (
        CheckConstraint("discount_minor > 0", name="discount_positive"),
        CheckConstraint("price_minor >= discount_minor", name="discount_within_price"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    tier_code: Mapped[str | None] = mapped_column(String(63))
    percent: Mapped[str] = mapped_column(String(20))  # as the programme file gives it, "7.5"
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    price_minor: Mapped[int] = mapped_column(BigInteger)  # before the discount
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
