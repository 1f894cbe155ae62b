"""rotating codes spent at the till

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rotating_code_uses",
        sa.Column("id", ID, nullable=False),
        sa.Column("card_id", ID, nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("used_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_rotating_code_uses_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_rotating_code_uses_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotating_code_uses")),
        sa.UniqueConstraint("card_id", "step", name=op.f("uq_rotating_code_uses_card_id_step")),
    )


def downgrade() -> None:
    op.drop_table("rotating_code_uses")
