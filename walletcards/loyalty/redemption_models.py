"""Online redemptions: points reserved for a code, then captured (spent) or released.

A reservation is a two-phase transfer on the ledger: its ``reserve`` entry draws the points
from lots (soonest expiry first, recorded as lot draws), so they are no longer available; the
``redemption`` entry of a capture is the spend the card shows (it moves nothing, the draws are
made); the ``unreserve`` entry of a release gives the drawn points back as new lots expiring no
later than the ones they came from (:mod:`walletcards.loyalty.reservations`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model

STATUSES = ("reserved", "captured", "released")
CHANNELS = ("shopify", "woocommerce", "api", "card")
SHOP_STATES = ("none", "pending", "live", "deleted", "failed")
RELEASE_CAUSES = (
    "customer",
    "api",
    "expired",
    "shop_refused",
    "order_cancelled",
    "order_refunded",
)


class Redemption(Model):
    """One reservation of points and its code; ``status`` moves reserved -> captured | released."""

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("program_id", "code"),
        UniqueConstraint("program_id", "idempotency_key"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("value_minor >= 0", name="value_not_negative"),
        CheckConstraint("status IN ('reserved', 'captured', 'released')", name="status_known"),
        Index("ix_redemptions_card_status", "card_id", "status"),
        Index("ix_redemptions_status_expires", "status", "expires_at"),
        # a cancelled or refunded order finds the redemptions it captured (redemption_orders)
        Index("ix_redemptions_program_order_ref", "program_id", "order_ref"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    value_minor: Mapped[int] = mapped_column(BigInteger)  # points * point_value, minor units
    status: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(200))  # the caller's own reference
    code: Mapped[str | None] = mapped_column(String(64))  # upper case; found case-insensitively
    shop_code_id: Mapped[str | None] = mapped_column(String(200))  # the shop's id of the code
    shop_state: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime]
    order_ref: Mapped[str | None] = mapped_column(String(300))
    released_cause: Mapped[str | None] = mapped_column(String(20))
    # the caller's key (unique per programme) and the hash of the inputs it was first used with
    idempotency_key: Mapped[str] = mapped_column(String(300))
    input_hash: Mapped[str] = mapped_column(String(64))
    # the ledger entries of each transition (actor and cause are on them)
    reserve_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    capture_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    release_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime]
    captured_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
