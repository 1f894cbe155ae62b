"""campaign grants and runs: what each campaign ([[campaigns]]) paid, card by card

One row per campaign credit (its ledger entry, order, occurrence and the points taken back
since), for the campaign figures, the gift job's audience and refunds (loyalty/campaigns.py);
one row per campaign occurrence whose start and end the job announced to the cards.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = walletcards.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_grants",
        sa.Column("id", ID, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("occurrence", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("card_id", ID, nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "points_reversed >= 0 AND points_reversed <= points",
            name=op.f("ck_campaign_grants_reversed_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_campaign_grants_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_campaign_grants_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_campaign_grants_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_campaign_grants_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_grants")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_campaign_grants_entry_id")),
    )
    op.create_index(
        "ix_campaign_grants_campaign",
        "campaign_grants",
        ["program_id", "campaign", "occurrence", "card_id"],
    )
    op.create_index(op.f("ix_campaign_grants_order_id"), "campaign_grants", ["order_id"])
    op.create_table(
        "campaign_runs",
        sa.Column("program_id", ID, nullable=False),
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("occurrence", sa.String(10), nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_campaign_runs_program_id_programs")
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "campaign", "occurrence", name=op.f("pk_campaign_runs")
        ),
    )


def downgrade() -> None:
    op.drop_table("campaign_runs")
    op.drop_index(op.f("ix_campaign_grants_order_id"), table_name="campaign_grants")
    op.drop_index("ix_campaign_grants_campaign", table_name="campaign_grants")
    op.drop_table("campaign_grants")
