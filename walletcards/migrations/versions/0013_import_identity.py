"""customers matched by phone digits; imported tier floors

``customers.phone_key`` holds a phone's digits so a shop's next order finds an imported
customer by phone whatever the formatting; ``cards.tier_floor`` / ``tier_floor_until`` keep an
imported tier (``walletcards import customers --map-tier``). Existing phones are backfilled.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def phone_key(phone: str | None) -> str | None:
    """loyalty/cards.phone_key as of this revision (frozen here: a migration must not change
    when the application's code does)."""
    digits = "".join(char for char in phone or "" if char.isascii() and char.isdigit())
    return digits[:40] if len(digits) >= 6 else None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("phone_key", sa.String(length=40), nullable=True))
        batch.create_index("ix_customers_program_phone_key", ["program_id", "phone_key"])
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("tier_floor", sa.String(length=63), nullable=True))
        batch.add_column(
            sa.Column("tier_floor_until", walletcards.db.UTCDateTime(timezone=True), nullable=True)
        )
    customers = sa.table(
        "customers",
        sa.column("id", sa.BigInteger),
        sa.column("phone", sa.String),
        sa.column("phone_key", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(customers.c.id, customers.c.phone).where(customers.c.phone.is_not(None))
    ).all()
    updates = [{"row_id": row_id, "key": phone_key(phone)} for row_id, phone in rows]
    if updates:
        connection.execute(
            customers.update()
            .where(customers.c.id == sa.bindparam("row_id"))
            .values(phone_key=sa.bindparam("key")),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("tier_floor_until")
        batch.drop_column("tier_floor")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("ix_customers_program_phone_key")
        batch.drop_column("phone_key")
