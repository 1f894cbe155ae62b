"""message emails: the outbox's emails may carry an owner's message (issue 20's email channel)

``outbox_emails.message_ref``: the message an email carries (none for the card email), indexed
with the status for the message's delivery figures.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(sa.Column("message_ref", sa.BigInteger(), nullable=True))
    op.create_index("ix_outbox_emails_message_ref", "outbox_emails", ["message_ref", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_emails_message_ref", table_name="outbox_emails")
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("message_ref")
