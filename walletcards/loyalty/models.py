"""Programmes, customers, cards, orders and the append-only ledger (entries, lots, lot draws).

The card row carries the materialised balance (available, pending, debt) and ``version``, the
durable signal that the card's wallets need an update. Check constraints keep every balance and
every lot remainder non-negative even if code were wrong.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from walletcards.db import BigId, Model


class Program(Model):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Customer(Model):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("program_id", "external_id"),
        Index("ix_customers_program_email", "program_id", "email"),
        Index("ix_customers_program_phone", "program_id", "phone"),
        Index("ix_customers_program_phone_key", "program_id", "phone_key"),
        Index(  # the few erased: "not erased" over a million cards is a tiny anti-join
            "ix_customers_erased",
            "id",
            postgresql_where=text("erased_at IS NOT NULL"),
            sqlite_where=text("erased_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    # "<order source>:customer:<shop's id>": see Order.source
    external_id: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    # the phone's digits (customers.phone_key), so "+1 613-555-0100" finds "16135550100"
    phone_key: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200))
    birthday: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str | None] = mapped_column(String(10))
    profile_at: Mapped[datetime | None]  # when the shop last told us these details
    created_at: Mapped[datetime]
    # how the customer arrived (loyalty/members.py JOINED_VIA; None: before it was recorded)
    # and the staff/till code a sign-up was attributed to (the poster's ?staff=)
    joined_via: Mapped[str | None] = mapped_column(String(20))
    joined_staff: Mapped[str | None] = mapped_column(String(63))
    # None only for a sign-up waiting for its email to be confirmed (its card is held)
    confirmed_at: Mapped[datetime | None]
    # the current marketing consent; its history is in ``consents`` (member_models.py)
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    marketing_consent_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]  # personal data erased (GDPR art. 17): who and when
    erased_by: Mapped[str | None] = mapped_column(String(200))


class Card(Model):
    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("pending >= 0", name="pending_not_negative"),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("program_id", "member_number"),
        Index("ix_cards_push_due", "pushed_version", "version"),
        Index("ix_cards_updated_at", "updated_at"),  # the worker's latest-changes claim
        # the dashboard's members series and per-tier counts (walletcards/admin/metrics.py)
        Index("ix_cards_program_created", "program_id", "created_at"),
        Index("ix_cards_program_tier", "program_id", "tier_code"),
        Index("ix_cards_program_tier_review", "program_id", "tier_review_at"),
        # the dashboard's top customers: largest lifetime spenders first (admin/top_customers.py)
        Index("ix_cards_program_spend", "program_id", "spend_minor"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    auth_token: Mapped[str] = mapped_column(String(64))  # Apple's authenticationToken
    qr_secret: Mapped[str] = mapped_column(String(64))  # keys the card's signed QR code
    member_number: Mapped[str] = mapped_column(String(20))
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_orders: Mapped[int] = mapped_column(Integer, default=0)
    # RFM's facts of the card's live orders, kept by loyalty/order_facts.py (segments.py)
    last_order_at: Mapped[datetime | None]
    orders_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    spend_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tier_code: Mapped[str | None] = mapped_column(String(63))
    tier_since: Mapped[datetime | None]
    # A windowed tier's next review: when the oldest order it needs leaves the window
    # (walletcards/loyalty/tiers.py); the scheduled job re-checks cards that are due.
    tier_review_at: Mapped[datetime | None]
    # An imported tier (walletcards import customers --map-tier): the tier never falls below it
    # until tier_floor_until (None: for good), see tiers.refresh_tier.
    tier_floor: Mapped[str | None] = mapped_column(String(63))
    tier_floor_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    # The sync worker's state: the version the wallets have been told about, and a lease so
    # that one worker at a time pushes a card (see walletcards/sync/worker.py).
    pushed_version: Mapped[int] = mapped_column(BigInteger, default=0)
    push_lease_until: Mapped[datetime | None]
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Order(Model):
    """A shop order as far as loyalty cares: amounts in minor units, refunds accumulated."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("program_id", "source", "external_id"),
        CheckConstraint("refunded_minor >= 0", name="refunded_not_negative"),
        CheckConstraint(
            "refunded_eligible_minor >= 0 AND refunded_eligible_minor <= eligible_minor",
            name="refunded_eligible_in_range",
        ),
        Index("ix_orders_card_paid_at", "card_id", "paid_at"),
        Index(
            "ix_orders_program_paid_at",
            "program_id",
            "paid_at",
            postgresql_include=["card_id", "status", "total_minor", "refunded_minor", "is_repeat"],
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    # "shopify:<shop domain>", "woocommerce:<site host>" (up to 255 characters), "orders"
    source: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    eligible_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_eligible_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    base_points: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_points: Mapped[int] = mapped_column(BigInteger, default=0)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)  # of base_points
    status: Mapped[str] = mapped_column(
        String(20)
    )  # paid | partially_refunded | refunded | cancelled
    # The member had a counted (not cancelled) order before this one: a repeat order. Set once
    # when the order is recorded, so the dashboard's repeat rate is a sum, not a probe per order.
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Counts towards the welcome bonus, every-Nth rewards and order-count tiers: its eligible
    # amount (net of refunds) reaches [earning] min_order_amount and it is not cancelled or
    # fully refunded. Decided when the order is applied, cleared once (Card.paid_orders counts
    # these orders).
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paid_at: Mapped[datetime]
    created_at: Mapped[datetime]


class LedgerEntry(Model):
    """One immutable fact. Deltas move the card's materialised balance; their sum is the balance.

    ``idempotency_key`` is unique per programme and derived from the cause; ``input_hash`` is the
    SHA-256 of the inputs, so a retry with the same key and other inputs is a conflict.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("program_id", "idempotency_key"),
        Index("ix_ledger_entries_card", "card_id", "id"),
        Index("ix_ledger_entries_order", "order_id"),
        Index(
            "ix_ledger_entries_program_created",
            "program_id",
            "created_at",
            postgresql_include=["kind", "points"],
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(BigInteger)  # the entry's nominal amount, always >= 0
    available_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    debt_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    # keys and causes of orders embed Order.source and the order id (see awards.order_key)
    idempotency_key: Mapped[str] = mapped_column(String(600))
    input_hash: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(600))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    actor: Mapped[str | None] = mapped_column(String(200))
    memo: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Lot(Model):
    """Points from one credit: pending until ``available_at``, spendable until ``expires_at``."""

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        CheckConstraint("points > 0", name="points_positive"),
        Index("ix_lots_card_open", "card_id", "remaining"),
        Index("ix_lots_expires_at", "expires_at"),
        Index("ix_lots_available_at", "released", "available_at"),
        Index(
            "ix_lots_program_expiry", "program_id", "expires_at", postgresql_include=["remaining"]
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(Boolean)
    available_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    expiry_warned_at: Mapped[datetime | None]

    entry: Mapped[LedgerEntry] = relationship(lazy="raise")


class LotDraw(Model):
    """Which lot a debit (redemption, reversal, expiry, debt settlement) took its points from."""

    __tablename__ = "lot_draws"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)

    entry: Mapped[LedgerEntry] = relationship(lazy="raise")
    lot: Mapped[Lot] = relationship(lazy="raise")


class Refund(Model):
    """One refund or cancellation applied to an order, once (keyed like a ledger entry)."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("program_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(600))
    input_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # refund | cancel
    refunded_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_eligible_minor: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime]


class EarlyReversal(Model):
    """A refund or cancellation of an order not seen yet (it arrived before its ``orders/paid``),
    applied when the order arrives: a cancelled order then earns nothing."""

    __tablename__ = "early_reversals"
    __table_args__ = (
        UniqueConstraint("program_id", "idempotency_key"),
        Index("ix_early_reversals_order", "program_id", "source", "external_id"),
        Index("ix_early_reversals_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    source: Mapped[str] = mapped_column(String(300))  # as Order.source
    external_id: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(600))  # as Refund.idempotency_key
    kind: Mapped[str] = mapped_column(String(20))  # refund | cancel
    refunded_minor: Mapped[int] = mapped_column(BigInteger)
    # None: only an amount was refunded, its eligible part is pro rata to the order's
    refunded_eligible_minor: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
