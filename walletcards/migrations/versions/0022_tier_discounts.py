"""tier discounts: the discount a till gave on a purchase; the tier tag each shop customer carries

``till_discounts``: one row per till purchase that took a tier discount (``earn`` with
``discount``): percent, amount off and the price before it. ``shop_tier_tags``: one row per
card whose customer the programme's shop knows, the tier to tag them with, sent by the jobs.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "till_discounts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("tier_code", sa.String(length=63), nullable=True),
        sa.Column("percent", sa.String(length=20), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", BigId, nullable=False),
        sa.Column("created_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("discount_minor > 0", name=op.f("ck_till_discounts_discount_positive")),
        sa.CheckConstraint(
            "price_minor >= discount_minor", name=op.f("ck_till_discounts_discount_within_price")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_till_discounts_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_till_discounts_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_till_discounts")),
        sa.UniqueConstraint("order_id", name=op.f("uq_till_discounts_order_id")),
    )
    op.create_table(
        "shop_tier_tags",
        sa.Column("id", BigId, nullable=False),
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("card_id", BigId, nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("customer_ref", sa.String(length=200), nullable=False),
        sa.Column("tier_code", sa.String(length=63), nullable=True),
        sa.Column("previous_code", sa.String(length=63), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("changed_at", walletcards.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", walletcards.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_shop_tier_tags_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_shop_tier_tags_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_tier_tags")),
        sa.UniqueConstraint("card_id", name=op.f("uq_shop_tier_tags_card_id")),
    )
    op.create_index(
        "ix_shop_tier_tags_due", "shop_tier_tags", ["status", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_shop_tier_tags_due", table_name="shop_tier_tags")
    op.drop_table("shop_tier_tags")
    op.drop_table("till_discounts")
