"""outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 14:24:29.369677
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "paused_endpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("endpoint_url", sa.String(length=500), nullable=False),
        sa.Column("paused_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_paused_endpoints_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paused_endpoints")),
        sa.UniqueConstraint(
            "program_id", "endpoint_url", name=op.f("uq_paused_endpoints_program_id_endpoint_url")
        ),
    )
    op.create_table(
        "outbound_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("endpoint_url", sa.String(length=500), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.String(length=200), nullable=True),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_outbound_events_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_outbound_events_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_events")),
        sa.UniqueConstraint(
            "event_id", "endpoint_url", name=op.f("uq_outbound_events_event_id_endpoint_url")
        ),
    )
    with op.batch_alter_table("outbound_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_events_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_events_event_id"), ["event_id"], unique=False)

    op.create_table(
        "outbox_emails",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_outbox_emails_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_outbox_emails_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_emails")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_emails_message_id")),
    )
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_emails_card_id"), ["card_id"], unique=False)
        batch_op.create_index("ix_outbox_emails_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_emails_due")
        batch_op.drop_index(batch_op.f("ix_outbox_emails_card_id"))

    op.drop_table("outbox_emails")
    with op.batch_alter_table("outbound_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_events_event_id"))
        batch_op.drop_index("ix_outbound_events_due")

    op.drop_table("outbound_events")
    op.drop_table("paused_endpoints")
