"""What joining records beside the customer: each consent given or withdrawn, and the
identities a join welcome bonus has been paid to.

Consents are append-only (the customer's current marketing consent is a column on the
customer, kept in step): the record says what was agreed to (``kind``, ``text_version``), when,
and through what (the sign-up page, the till, an email's unsubscribe link, the card page).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from walletcards.db import BigId, Model

CONSENT_KINDS = ("terms", "marketing")
CONSENT_SOURCES = ("join", "till", "card_page", "email_link", "api", "import", "erasure")


class Consent(Model):
    """One consent given or withdrawn, never changed afterwards."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))  # CONSENT_KINDS
    granted: Mapped[bool] = mapped_column(Boolean)
    text_version: Mapped[str | None] = mapped_column(String(32))  # [join] terms_version
    source: Mapped[str] = mapped_column(String(20))  # CONSENT_SOURCES
    actor: Mapped[str | None] = mapped_column(String(200))  # the staff member, if any
    created_at: Mapped[datetime]


class WelcomeClaim(Model):
    """An email or phone a join welcome bonus was paid to, as a keyed hash (not the address):
    one welcome per person even across several sign-ups, and still after an erasure."""

    __tablename__ = "welcome_claims"
    __table_args__ = (PrimaryKeyConstraint("program_id", "identity"),)

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    identity: Mapped[str] = mapped_column(String(64))  # sha256 hex of the kind and value
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    created_at: Mapped[datetime]
