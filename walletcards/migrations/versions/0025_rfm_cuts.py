"""RFM at scale: order facts on the card, the programme's cut points instead of a row per card

``cards.last_order_at`` / ``orders_count`` / ``spend_minor`` (the card's live orders: latest
paid_at, how many, paid net of refunds; loyalty/order_facts.py), backfilled from the orders in
one ``UPDATE … FROM``; ``rfm_cuts`` (twelve quintile cut points per programme,
loyalty/rfm.py) replaces ``rfm_scores``; a partial index of the erased customers.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = walletcards.db.UTCDateTime(timezone=True)

BACKFILL = """
UPDATE cards SET last_order_at = facts.last_at, orders_count = facts.n, spend_minor = facts.spend
FROM (SELECT card_id, MAX(paid_at) AS last_at, COUNT(*) AS n,
             SUM(total_minor - refunded_minor) AS spend
      FROM orders WHERE status <> 'cancelled' GROUP BY card_id) AS facts
WHERE cards.id = facts.card_id
"""


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("last_order_at", When, nullable=True))
        batch.add_column(
            sa.Column("orders_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("spend_minor", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(BACKFILL)
    op.create_index(
        "ix_customers_erased",
        "customers",
        ["id"],
        postgresql_where=sa.text("erased_at IS NOT NULL"),
        sqlite_where=sa.text("erased_at IS NOT NULL"),
    )
    cuts: list[sa.Column[Any]] = [sa.Column(f"r{i}", When, nullable=False) for i in range(1, 5)]
    cuts += [sa.Column(f"{k}{i}", sa.BigInteger(), nullable=False) for k in "fm" for i in "1234"]
    op.create_table(
        "rfm_cuts",
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("scored_at", When, nullable=False),
        sa.Column("scored", sa.BigInteger(), nullable=False),
        sa.Column("sampled", sa.BigInteger(), nullable=False),
        *cuts,
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_rfm_cuts_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_rfm_cuts")),
    )
    op.drop_index("ix_rfm_scores_group", table_name="rfm_scores")
    op.drop_table("rfm_scores")


def downgrade() -> None:
    op.create_table(
        "rfm_scores",
        sa.Column("card_id", BigId, autoincrement=False, nullable=False),
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("recency", sa.SmallInteger(), nullable=False),
        sa.Column("frequency", sa.SmallInteger(), nullable=False),
        sa.Column("monetary", sa.SmallInteger(), nullable=False),
        sa.Column("rfm_group", sa.String(length=30), nullable=False),
        sa.Column("scored_at", When, nullable=False),
        sa.PrimaryKeyConstraint("card_id", name=op.f("pk_rfm_scores")),
    )
    op.create_index("ix_rfm_scores_group", "rfm_scores", ["program_id", "rfm_group"])
    op.drop_table("rfm_cuts")
    op.drop_index("ix_customers_erased", table_name="customers")
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("spend_minor")
        batch.drop_column("orders_count")
        batch.drop_column("last_order_at")
