"""early reversals sized like the orders they wait for

``early_reversals`` (0012) kept the 40-character ``source`` and 255-character key that 0011
widened everywhere else, so a refund for an unseen order from a shop whose domain runs past 32
characters failed on PostgreSQL. Same sizes as ``orders.source`` and ``refunds.idempotency_key``.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SIZES = {"source": (40, 300), "idempotency_key": (255, 600)}


def _resize(new: bool) -> None:
    with op.batch_alter_table("early_reversals") as batch:
        for column, (old_size, new_size) in SIZES.items():
            batch.alter_column(
                column,
                existing_type=sa.String(old_size if new else new_size),
                type_=sa.String(new_size if new else old_size),
                existing_nullable=False,
            )


def upgrade() -> None:
    _resize(new=True)


def downgrade() -> None:
    _resize(new=False)
