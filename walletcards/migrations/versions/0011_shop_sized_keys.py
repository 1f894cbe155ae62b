"""columns sized for real shop domains and site URLs

Order sources are "shopify:<shop domain>" / "woocommerce:<site host>" (domains run to 60+
characters, site addresses to 255), and customer ids, ledger keys and causes embed them.
Widening a VARCHAR on PostgreSQL rewrites nothing; SQLite copies the table (batch mode).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# table -> column -> (old size, new size)
SIZES = {
    "orders": {"source": (40, 300)},
    "customers": {"external_id": (200, 500)},
    "ledger_entries": {"idempotency_key": (255, 600), "cause": (255, 600)},
    "refunds": {"idempotency_key": (255, 600)},
}


def _resize(new: bool) -> None:
    for table, columns in SIZES.items():
        with op.batch_alter_table(table) as batch:
            for column, (old_size, new_size) in columns.items():
                batch.alter_column(
                    column,
                    existing_type=sa.String(old_size if new else new_size),
                    type_=sa.String(new_size if new else old_size),
                )


def upgrade() -> None:
    _resize(new=True)


def downgrade() -> None:
    _resize(new=False)
