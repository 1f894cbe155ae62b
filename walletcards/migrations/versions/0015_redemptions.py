"""redemptions: points reserved for a code, captured or released

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = walletcards.db.UTCDateTime(timezone=True)


def _entry(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["ledger_entries.id"], name=op.f(f"fk_redemptions_{column}_ledger_entries")
    )


def upgrade() -> None:
    op.create_table(
        "redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("program_id", ID, nullable=False),
        sa.Column("card_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("shop_code_id", sa.String(200), nullable=True),
        sa.Column("shop_state", sa.String(10), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("order_ref", sa.String(300), nullable=True),
        sa.Column("released_cause", sa.String(20), nullable=True),
        sa.Column("idempotency_key", sa.String(300), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("reserve_entry_id", ID, nullable=False),
        sa.Column("capture_entry_id", ID, nullable=True),
        sa.Column("release_entry_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("captured_at", WHEN, nullable=True),
        sa.Column("released_at", WHEN, nullable=True),
        sa.CheckConstraint("points > 0", name=op.f("ck_redemptions_points_positive")),
        sa.CheckConstraint("value_minor >= 0", name=op.f("ck_redemptions_value_not_negative")),
        sa.CheckConstraint(
            "status IN ('reserved', 'captured', 'released')",
            name=op.f("ck_redemptions_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_redemptions_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_redemptions_card_id_cards")
        ),
        _entry("reserve_entry_id"),
        _entry("capture_entry_id"),
        _entry("release_entry_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("program_id", "code", name=op.f("uq_redemptions_program_id_code")),
        sa.UniqueConstraint(
            "program_id",
            "idempotency_key",
            name=op.f("uq_redemptions_program_id_idempotency_key"),
        ),
    )
    op.create_index("ix_redemptions_card_status", "redemptions", ["card_id", "status"])
    op.create_index("ix_redemptions_status_expires", "redemptions", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_redemptions_status_expires", table_name="redemptions")
    op.drop_index("ix_redemptions_card_status", table_name="redemptions")
    op.drop_table("redemptions")
