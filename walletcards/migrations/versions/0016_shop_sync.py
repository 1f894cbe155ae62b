"""shop watermarks: how far reconciliation has read each programme's shop

One row per programme and shop platform (``orders/reconcile.py``): the latest update time of
an order read back from the shop's admin API, when the job last looked, and its last failure.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shop_watermarks",
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("updated_after", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_shop_watermarks_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "platform", name=op.f("pk_shop_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("shop_watermarks")
