"""redemptions: an index on (program_id, order_ref)

A cancelled or wholly refunded order finds the redemptions it captured by its key
(``loyalty/redemption_orders.py``: programme, ``order_ref``, status "captured"); without the
index every cancellation and full refund scanned the programme's redemptions.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_redemptions_program_order_ref", "redemptions", ["program_id", "order_ref"])


def downgrade() -> None:
    op.drop_index("ix_redemptions_program_order_ref", table_name="redemptions")
