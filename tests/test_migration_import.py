"""Migration 0013 on a database written before it: existing phones get their digits key, so the
next order finds those customers by phone too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, column, select, table

from tests.kit.database import T0, scratch_database
from walletcards import migrate
from walletcards.db import Database, Model
from walletcards.loyalty.models import Customer, Program


@pytest.fixture
def own_database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, migrated by the test itself."""
    own = (
        database_url
        if database_url.startswith("postgresql")
        else f"sqlite:///{tmp_path / 'before.db'}"
    )
    with scratch_database(own, "0013") as url, Database(url) as db:
        yield db


def insert(conn: Connection, model: type[Model], **values: Any) -> None:
    """Insert only the columns given (the table as it was before the migration)."""
    columns = model.__table__.c
    before = table(model.__tablename__, *(column(key, columns[key].type) for key in values))
    conn.execute(before.insert().values(**values))


def test_existing_phones_are_keyed_by_their_digits(own_database: Database) -> None:
    migrate.upgrade(own_database, "0012")
    with own_database.engine.begin() as conn:
        stamps = {"created_at": T0, "updated_at": T0}
        insert(
            conn,
            Program,
            slug="demo",
            name="D",
            currency="USD",
            config={},
            config_hash="x",
            **stamps,
        )
        for phone in ("+1 (613) 555-0123", "12", None):
            insert(conn, Customer, program_id=1, phone=phone, created_at=T0)
    migrate.upgrade(own_database)
    with own_database.transaction() as session:
        keys = session.execute(select(Customer.phone_key).order_by(Customer.id)).scalars().all()
    assert keys == ["16135550123", None, None]
