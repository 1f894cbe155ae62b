"""message_recipients without foreign keys: a broadcast writes a row per card (issue 20)

A message to a million cards inserts a million recipient rows; their two foreign-key checks
(the card, the message) were about a third of the ``INSERT``. The rows are only ever written
by the sending step from cards and a message it has just read, and neither cards nor messages
are ever deleted, so the constraints guarded nothing (as ``rfm_scores`` before them).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_recipients") as batch:
        batch.drop_constraint("fk_message_recipients_card_id_cards", type_="foreignkey")
        batch.drop_constraint("fk_message_recipients_message_id_messages", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("message_recipients") as batch:
        batch.create_foreign_key(
            "fk_message_recipients_card_id_cards", "cards", ["card_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_message_recipients_message_id_messages", "messages", ["message_id"], ["id"]
        )
