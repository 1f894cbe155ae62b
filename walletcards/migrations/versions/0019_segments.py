"""segments: each card's RFM scores and the daily size of every segment

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rfm_scores",
        sa.Column("card_id", BigId, autoincrement=False, nullable=False),
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("recency", sa.SmallInteger(), nullable=False),
        sa.Column("frequency", sa.SmallInteger(), nullable=False),
        sa.Column("monetary", sa.SmallInteger(), nullable=False),
        sa.Column("rfm_group", sa.String(length=30), nullable=False),
        sa.Column("scored_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("card_id", name=op.f("pk_rfm_scores")),
    )
    op.create_index("ix_rfm_scores_group", "rfm_scores", ["program_id", "rfm_group"])
    op.create_table(
        "segment_sizes",
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=63), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_segment_sizes_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "day", "segment", name=op.f("pk_segment_sizes")),
    )


def downgrade() -> None:
    op.drop_table("segment_sizes")
    op.drop_index("ix_rfm_scores_group", table_name="rfm_scores")
    op.drop_table("rfm_scores")
