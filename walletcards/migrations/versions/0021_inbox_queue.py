"""the inbox is the appliers' queue: attempts, next attempt, applied at; waiting rows indexed

A webhook delivery is accepted into the inbox (outcome ``accepted``) and applied later by an
applier (``orders/applier.py``); a failing one is retried after ``apply_after`` and parked after
its attempts. Existing rows were all applied when they arrived: their new columns stay empty.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

WAITING = sa.text("outcome = 'accepted'")


def upgrade() -> None:
    with op.batch_alter_table("inbox_deliveries") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("apply_after", walletcards.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("applied_at", walletcards.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_index(
        "ix_inbox_deliveries_waiting",
        "inbox_deliveries",
        ["id"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_deliveries_waiting", table_name="inbox_deliveries")
    with op.batch_alter_table("inbox_deliveries") as batch:
        batch.drop_column("applied_at")
        batch.drop_column("apply_after")
        batch.drop_column("attempts")
