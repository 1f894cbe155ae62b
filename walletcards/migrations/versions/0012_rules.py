"""rules that hold up: counted orders, windowed tier reviews, early refunds and cancellations

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch copy of these tables would trip their FKs.
    op.add_column(
        "orders", sa.Column("counted", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # Until now every order that was not cancelled or fully refunded counted (Card.paid_orders).
    op.execute("UPDATE orders SET counted = (status IN ('paid', 'partially_refunded'))")
    # Every-Nth rewards on such orders were taken back inside the order's own reversal; mark
    # them as no longer held, as the rewards that follow the count now expect (0 points: the
    # points went back then).
    op.execute(
        sa.text(
            "INSERT INTO ledger_entries (program_id, card_id, kind, points, available_delta, "
            "pending_delta, debt_delta, idempotency_key, input_hash, cause, order_id, "
            "created_at) SELECT e.program_id, e.card_id, 'reversal', 0, 0, 0, 0, "
            "e.idempotency_key || :suffix, :marker, :marker, e.order_id, CURRENT_TIMESTAMP "
            "FROM ledger_entries e JOIN orders o ON o.id = e.order_id "
            "WHERE e.kind = 'bonus' AND e.cause LIKE :nth ESCAPE '!' "
            "AND o.status IN ('cancelled', 'refunded')"
        ).bindparams(suffix=":reversal", marker="migration-0016", nth="every!_nth:%")
    )
    op.add_column(
        "cards",
        sa.Column("tier_review_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_cards_program_tier_review", "cards", ["program_id", "tier_review_at"], unique=False
    )
    # Windowed tiers are reviewed by the scheduled job from now on: every tiered card once.
    op.execute("UPDATE cards SET tier_review_at = CURRENT_TIMESTAMP WHERE tier_code IS NOT NULL")
    op.create_table(
        "early_reversals",
        sa.Column("id", BigId, nullable=False),
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_eligible_minor", sa.BigInteger(), nullable=True),
        sa.Column("received_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_early_reversals_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_reversals")),
        sa.UniqueConstraint(
            "program_id",
            "idempotency_key",
            name=op.f("uq_early_reversals_program_id_idempotency_key"),
        ),
    )
    op.create_index(
        "ix_early_reversals_order",
        "early_reversals",
        ["program_id", "source", "external_id"],
        unique=False,
    )
    op.create_index("ix_early_reversals_received", "early_reversals", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_early_reversals_received", table_name="early_reversals")
    op.drop_index("ix_early_reversals_order", table_name="early_reversals")
    op.drop_table("early_reversals")
    op.drop_index("ix_cards_program_tier_review", table_name="cards")
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("tier_review_at")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("counted")
