"""card push state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 13:46:10.046468
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pushed_version", sa.BigInteger(), nullable=False, server_default=sa.text("0")
            )
        )
        batch_op.add_column(
            sa.Column("push_lease_until", walletcards.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("push_attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.create_index("ix_cards_push_due", ["pushed_version", "version"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index("ix_cards_push_due")
        batch_op.drop_column("push_attempts")
        batch_op.drop_column("push_lease_until")
        batch_op.drop_column("pushed_version")
