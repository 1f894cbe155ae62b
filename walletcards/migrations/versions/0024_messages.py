"""messages: the owner's messages through the card and their recipients (issue 20)

``messages``: one row per message (text per language, link, kind, audience, schedule, status,
sending progress). ``message_recipients``: one row per card of its audience, sent or skipped
with the reason, and the proof of delivery (pushed, fetched by the phone, Google).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = walletcards.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("audience_size", sa.Integer(), nullable=False),
        sa.Column("send_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=True),
        sa.Column("last_card_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", When, nullable=True),
        sa.Column("sent_at", When, nullable=True),
        sa.Column("cancelled_at", When, nullable=True),
        sa.Column("withdrawn_at", When, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_messages_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_program_created", "messages", ["program_id", "created_at"])
    op.create_index("ix_messages_status_send_at", "messages", ["status", "send_at"])
    op.create_table(
        "message_recipients",
        sa.Column("id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("card_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("card_version", sa.BigInteger(), nullable=True),
        sa.Column("pushed_at", When, nullable=True),
        sa.Column("fetched_at", When, nullable=True),
        sa.Column("google_at", When, nullable=True),
        sa.Column("skipped_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_message_recipients_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_recipients_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_recipients")),
        sa.UniqueConstraint(
            "message_id", "card_id", name=op.f("uq_message_recipients_message_id_card_id")
        ),
    )
    op.create_index(
        "ix_message_recipients_card_status", "message_recipients", ["card_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_message_recipients_card_status", table_name="message_recipients")
    op.drop_table("message_recipients")
    op.drop_index("ix_messages_status_send_at", table_name="messages")
    op.drop_index("ix_messages_program_created", table_name="messages")
    op.drop_table("messages")
