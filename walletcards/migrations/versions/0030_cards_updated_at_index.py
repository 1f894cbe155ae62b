"""cards: an index on updated_at, for the worker's claims of the latest changes (issue 21)

The worker pushes a member's change without waiting for a bulk batch in flight: on each
wake-up it claims the due cards changed in the last seconds, newest first
(walletcards/sync/cards.py). With the index that claim reads the few recent rows, not the
whole table.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cards_updated_at", "cards", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cards_updated_at", table_name="cards")
