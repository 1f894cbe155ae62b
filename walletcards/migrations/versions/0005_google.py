"""google objects and notifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:02:33.301294
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "google_notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sent_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_google_notifications_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_google_notifications")),
    )
    with op.batch_alter_table("google_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_google_notifications_card_sent", ["card_id", "sent_at"], unique=False
        )

    op.create_table(
        "google_objects",
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("tier_code", sa.String(length=63), nullable=True),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("expiring_points", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_google_objects_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("card_id", name=op.f("pk_google_objects")),
    )


def downgrade() -> None:

    op.drop_table("google_objects")
    with op.batch_alter_table("google_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_google_notifications_card_sent")

    op.drop_table("google_notifications")
