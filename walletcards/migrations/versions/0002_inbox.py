"""inbox, customer profile time, card QR secret

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:14:00.435446
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "inbox_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("shop", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("triggered_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("order_ref", sa.String(length=200), nullable=True),
        sa.Column("received_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_inbox_deliveries_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_deliveries")),
        sa.UniqueConstraint(
            "program_id",
            "source",
            "delivery_id",
            name=op.f("uq_inbox_deliveries_program_id_source_delivery_id"),
        ),
    )
    with op.batch_alter_table("inbox_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_deliveries_order", ["program_id", "order_ref"], unique=False
        )
        batch_op.create_index(
            "ix_inbox_deliveries_program_received", ["program_id", "received_at"], unique=False
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("profile_at", walletcards.db.UTCDateTime(timezone=True), nullable=True)
        )

    # Cards issued before this revision get a random QR secret of their own.
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qr_secret", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    for (card_id,) in bind.execute(sa.text("SELECT id FROM cards")).all():
        bind.execute(
            sa.text("UPDATE cards SET qr_secret = :s WHERE id = :i"),
            {"s": secrets.token_urlsafe(24), "i": card_id},
        )
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.alter_column("qr_secret", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_column("qr_secret")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("profile_at")

    with op.batch_alter_table("inbox_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_deliveries_program_received")
        batch_op.drop_index("ix_inbox_deliveries_order")

    op.drop_table("inbox_deliveries")
