"""members: joining without a purchase, consent records, erasure

Customers learn how they arrived (``joined_via``, ``joined_staff``), whether a sign-up has
been confirmed (``confirmed_at``; customers before this revision count as confirmed when they
were created), their current marketing consent, and whether and by whom their personal data
was erased. ``consents`` keeps every consent given or withdrawn; ``welcome_claims`` the keyed
hashes of the emails and phones a join welcome bonus was paid to.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import walletcards.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = walletcards.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("joined_via", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("joined_staff", sa.String(length=63), nullable=True))
        batch.add_column(sa.Column("confirmed_at", When, nullable=True))
        batch.add_column(
            sa.Column("marketing_consent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("marketing_consent_at", When, nullable=True))
        batch.add_column(sa.Column("erased_at", When, nullable=True))
        batch.add_column(sa.Column("erased_by", sa.String(length=200), nullable=True))
    op.execute("UPDATE customers SET confirmed_at = created_at")
    op.create_table(
        "consents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("text_version", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_consents_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_consents_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index("ix_consents_customer", "consents", ["customer_id", "id"])
    op.create_table(
        "welcome_claims",
        sa.Column("program_id", BigId, nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("card_id", BigId, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_welcome_claims_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_welcome_claims_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "identity", name=op.f("pk_welcome_claims")),
    )


def downgrade() -> None:
    op.drop_table("welcome_claims")
    op.drop_index("ix_consents_customer", table_name="consents")
    op.drop_table("consents")
    with op.batch_alter_table("customers") as batch:
        for column in (
            "erased_by",
            "erased_at",
            "marketing_consent_at",
            "marketing_consent",
            "confirmed_at",
            "joined_staff",
            "joined_via",
        ):
            batch.drop_column(column)
