"""apple registrations and logs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 13:34:38.434620
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "apple_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("received_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apple_logs")),
    )
    op.create_table(
        "apple_registrations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_library_id", sa.String(length=128), nullable=False),
        sa.Column("push_token", sa.String(length=256), nullable=False),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_apple_registrations_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apple_registrations")),
        sa.UniqueConstraint(
            "device_library_id",
            "card_id",
            name=op.f("uq_apple_registrations_device_library_id_card_id"),
        ),
    )
    with op.batch_alter_table("apple_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apple_registrations_card_id"), ["card_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_apple_registrations_device_library_id"),
            ["device_library_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("apple_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apple_registrations_device_library_id"))
        batch_op.drop_index(batch_op.f("ix_apple_registrations_card_id"))

    op.drop_table("apple_registrations")
    op.drop_table("apple_logs")
