"""Staff of a programme, their API tokens and browser sessions (both stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model

ROLES = ("cashier", "manager", "admin", "integration")
MANAGERS = ("manager", "admin")  # the owner's API, the dashboard, redeeming without the card
# a shop's integration: reads customers and manages redemptions (admin/redemptions.py), nothing else
INTEGRATION = "integration"


ACTOR_LENGTH = 200  # ledger_entries.actor


class Staff(Model):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("program_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    @property
    def actor(self) -> str:
        """Who made a ledger entry, as recorded on it: the address, or the id when the address
        is longer than the entries' 200-character ``actor`` column."""
        return self.email if len(self.email) <= ACTOR_LENGTH else f"staff:{self.id}"

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS


class StaffToken(Model):
    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class StaffSession(Model):
    """A signed-in browser (the till page or the dashboard). Its cookie holds only a random key
    whose digest is stored here, so signing out, disabling the member or a new password ends
    the session on the server, whatever copies of the cookie exist."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
