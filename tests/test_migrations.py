"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from walletcards.db import Database, Model


def test_migrated_schema_matches_the_models(migrated_database: Database) -> None:
    with migrated_database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Model.metadata) == []
