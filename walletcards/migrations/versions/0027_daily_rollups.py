"""Daily roll-ups of the dashboard's series (admin/rollups.py): one row per programme and
closed local day; empty at first (the scheduled job fills the recent days and a little of
the past each run; ``walletcards dashboard rollup`` rebuilds any range at once); an index of
the cards by lifetime spend for the dashboard's top customers (admin/top_customers.py).

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = walletcards.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "daily_rollups",
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("new_members", sa.BigInteger(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("repeat_orders", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_daily_rollups_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "day", name=op.f("pk_daily_rollups")),
    )
    op.create_index("ix_cards_program_spend", "cards", ["program_id", "spend_minor"])


def downgrade() -> None:
    op.drop_index("ix_cards_program_spend", table_name="cards")
    op.drop_table("daily_rollups")
