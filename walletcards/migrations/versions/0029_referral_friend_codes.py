"""referrals: the friend's discount code ([referral] friend_reward = { discount = ... })

``friend_code`` (the code, fixed when the reward is granted), ``friend_code_minor`` (its
value), ``friend_code_expires_at``, ``friend_code_state`` (pending -> live, or failed: made by
the scheduled jobs through the shop's admin API, shops/friend_codes.py),
``friend_shop_code_id`` (the shop's id for it) and ``friend_code_error`` (the shop's last
answer when not made).

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

When = walletcards.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("friend_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("friend_code_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("friend_code_expires_at", When, nullable=True))
        batch.add_column(sa.Column("friend_code_state", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("friend_shop_code_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("friend_code_error", sa.Text(), nullable=True))
    op.create_index(
        "ix_referrals_friend_code_state", "referrals", ["friend_code_state"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_friend_code_state", table_name="referrals")
    with op.batch_alter_table("referrals") as batch:
        for name in (
            "friend_code_error",
            "friend_shop_code_id",
            "friend_code_state",
            "friend_code_expires_at",
            "friend_code_minor",
            "friend_code",
        ):
            batch.drop_column(name)
