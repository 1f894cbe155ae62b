"""dashboard indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 15:39:13.337971
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("is_repeat", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Existing orders: a repeat if the card had an earlier counted order (paid_at, then id).
    op.execute(
        "UPDATE orders SET is_repeat = EXISTS (SELECT 1 FROM orders AS earlier "
        "WHERE earlier.card_id = orders.card_id AND earlier.status != 'cancelled' "
        "AND (earlier.paid_at < orders.paid_at "
        "OR (earlier.paid_at = orders.paid_at AND earlier.id < orders.id)))"
    )
    op.create_index("ix_cards_program_created", "cards", ["program_id", "created_at"], unique=False)
    op.create_index("ix_cards_program_tier", "cards", ["program_id", "tier_code"], unique=False)
    op.create_index(
        "ix_ledger_entries_program_created",
        "ledger_entries",
        ["program_id", "created_at"],
        unique=False,
        postgresql_include=["kind", "points"],
    )
    op.create_index(
        "ix_lots_program_expiry",
        "lots",
        ["program_id", "expires_at"],
        unique=False,
        postgresql_include=["remaining"],
    )
    op.create_index(
        "ix_orders_program_paid_at",
        "orders",
        ["program_id", "paid_at"],
        unique=False,
        postgresql_include=["card_id", "status", "total_minor", "refunded_minor", "is_repeat"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_orders_program_paid_at",
        table_name="orders",
    )
    op.drop_index("ix_lots_program_expiry", table_name="lots", postgresql_include=["remaining"])
    op.drop_index(
        "ix_ledger_entries_program_created",
        table_name="ledger_entries",
        postgresql_include=["kind", "points"],
    )
    op.drop_index("ix_cards_program_tier", table_name="cards")
    op.drop_index("ix_cards_program_created", table_name="cards")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("is_repeat")
