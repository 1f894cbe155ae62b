"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 12:53:11.309871
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "programs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("slug", name=op.f("uq_programs_slug")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_customers_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint(
            "program_id", "external_id", name=op.f("uq_customers_program_id_external_id")
        ),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_program_email", ["program_id", "email"], unique=False)
        batch_op.create_index("ix_customers_program_phone", ["program_id", "phone"], unique=False)

    op.create_table(
        "cards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("public_token", sa.String(length=64), nullable=False),
        sa.Column("auth_token", sa.String(length=64), nullable=False),
        sa.Column("member_number", sa.String(length=20), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        sa.Column("paid_orders", sa.Integer(), nullable=False),
        sa.Column("tier_code", sa.String(length=63), nullable=True),
        sa.Column("tier_since", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("available >= 0", name=op.f("ck_cards_available_not_negative")),
        sa.CheckConstraint("debt >= 0", name=op.f("ck_cards_debt_not_negative")),
        sa.CheckConstraint("pending >= 0", name=op.f("ck_cards_pending_not_negative")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_cards_version_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cards_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_cards_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_cards_customer_id")),
        sa.UniqueConstraint(
            "program_id", "member_number", name=op.f("uq_cards_program_id_member_number")
        ),
        sa.UniqueConstraint("public_token", name=op.f("uq_cards_public_token")),
        sa.UniqueConstraint("serial", name=op.f("uq_cards_serial")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("eligible_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_eligible_minor", sa.BigInteger(), nullable=False),
        sa.Column("base_points", sa.BigInteger(), nullable=False),
        sa.Column("bonus_points", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("paid_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "refunded_eligible_minor >= 0 AND refunded_eligible_minor <= eligible_minor",
            name=op.f("ck_orders_refunded_eligible_in_range"),
        ),
        sa.CheckConstraint("refunded_minor >= 0", name=op.f("ck_orders_refunded_not_negative")),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_orders_card_id_cards")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_orders_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "program_id",
            "source",
            "external_id",
            name=op.f("uq_orders_program_id_source_external_id"),
        ),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_card_paid_at", ["card_id", "paid_at"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("available_delta", sa.BigInteger(), nullable=False),
        sa.Column("pending_delta", sa.BigInteger(), nullable=False),
        sa.Column("debt_delta", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("cause", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_ledger_entries_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ledger_entries_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_ledger_entries_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint(
            "program_id",
            "idempotency_key",
            name=op.f("uq_ledger_entries_program_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_card", ["card_id", "id"], unique=False)
        batch_op.create_index("ix_ledger_entries_order", ["order_id"], unique=False)

    op.create_table(
        "lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("available_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expiry_warned_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("points > 0", name=op.f("ck_lots_points_positive")),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= points", name=op.f("ck_lots_remaining_in_range")
        ),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_lots_card_id_cards")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_lots_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_lots_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_lots_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index("ix_lots_available_at", ["released", "available_at"], unique=False)
        batch_op.create_index("ix_lots_card_open", ["card_id", "remaining"], unique=False)
        batch_op.create_index("ix_lots_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_eligible_minor", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_refunds_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_refunds_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint(
            "program_id", "idempotency_key", name=op.f("uq_refunds_program_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)

    op.create_table(
        "lot_draws",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_lot_draws_points_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_lot_draws_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_draws_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_draws")),
    )
    with op.batch_alter_table("lot_draws", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lot_draws_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lot_draws_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("lot_draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_draws_lot_id"))
        batch_op.drop_index(batch_op.f("ix_lot_draws_entry_id"))

    op.drop_table("lot_draws")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index("ix_lots_expires_at")
        batch_op.drop_index("ix_lots_card_open")
        batch_op.drop_index("ix_lots_available_at")

    op.drop_table("lots")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_order")
        batch_op.drop_index("ix_ledger_entries_card")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_card_paid_at")

    op.drop_table("orders")
    op.drop_table("cards")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_program_phone")
        batch_op.drop_index("ix_customers_program_email")

    op.drop_table("customers")
    op.drop_table("programs")
