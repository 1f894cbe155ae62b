"""The inbox: every verified delivery, so an operator can see and replay what arrived. It is
also the appliers' queue (orders/applier.py): a row whose outcome is ``accepted`` waits to be
applied; ``parked`` gave up after its attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model


class InboxDelivery(Model):
    __tablename__ = "inbox_deliveries"
    __table_args__ = (
        UniqueConstraint("program_id", "source", "delivery_id"),
        Index("ix_inbox_deliveries_program_received", "program_id", "received_at"),
        Index("ix_inbox_deliveries_order", "program_id", "order_ref"),
        # the appliers' queue: only the rows still waiting (a handful, however big the inbox)
        Index(
            "ix_inbox_deliveries_waiting",
            "id",
            postgresql_where=text("outcome = 'accepted'"),
            sqlite_where=text("outcome = 'accepted'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    source: Mapped[str] = mapped_column(String(20))  # shopify | woocommerce | orders
    shop: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(100))
    delivery_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(255))
    triggered_at: Mapped[datetime | None]
    order_ref: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
    # accepted (waiting for an applier), parked (failed every attempt), replayed (a parked one
    # replayed under a new id), or what applying did: applied|duplicate|ignored|unattributed|
    # refused (the ledger's error in response), or reconciled (read back from the shop)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")  # failed applies
    apply_after: Mapped[datetime | None]  # a failed delivery's next attempt (backoff)
    applied_at: Mapped[datetime | None]  # when its outcome was recorded


class ShopWatermark(Model):
    """How far the reconciliation job has read a programme's shop (orders/reconcile.py): the
    latest update time of an order read back, and when it last looked (and why it failed)."""

    __tablename__ = "shop_watermarks"

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("programs.id"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)  # shopify | woocommerce
    updated_after: Mapped[datetime | None]  # None: never read (the first run looks back a day)
    checked_at: Mapped[datetime]
    error: Mapped[str | None] = mapped_column(Text)  # the last run's failure; None: it worked
