"""referrals: one row per friend brought by a member's referral link

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", BigId, nullable=False),
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("referrer_card_id", BigId, nullable=False),
        sa.Column("friend_card_id", BigId, nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_referrals_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["referrer_card_id"], ["cards.id"], name=op.f("fk_referrals_referrer_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["friend_card_id"], ["cards.id"], name=op.f("fk_referrals_friend_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint(
            "program_id", "friend_card_id", name=op.f("uq_referrals_program_id_friend_card_id")
        ),
    )
    op.create_index(
        "ix_referrals_referrer",
        "referrals",
        ["referrer_card_id", "status", "settled_at"],
        unique=False,
    )
    op.create_index(
        "ix_referrals_program_status", "referrals", ["program_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_program_status", table_name="referrals")
    op.drop_index("ix_referrals_referrer", table_name="referrals")
    op.drop_table("referrals")
