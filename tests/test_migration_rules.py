"""Migration 0012 on a database written by the code before it: orders keep counting as they
did, and every-Nth rewards already taken back with their cancelled order are not held."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, column, select, table
from sqlalchemy.orm import Session

from tests.kit.database import T0, scratch_database
from walletcards import migrate
from walletcards.db import Database, Model
from walletcards.loyalty.cards import card_values
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Order, Program
from walletcards.loyalty.unlocks import held_nth_rewards


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, migrated by the test itself."""
    own = (
        database_url
        if database_url.startswith("postgresql")
        else f"sqlite:///{tmp_path / 'legacy.db'}"
    )
    with scratch_database(own, "legacy") as url, Database(url) as db:
        yield db


def insert(conn: Connection, model: type[Model], **values: Any) -> None:
    """Insert only the columns given (the table as it was before the migration)."""
    columns = model.__table__.c
    legacy = table(model.__tablename__, *(column(key, columns[key].type) for key in values))
    conn.execute(legacy.insert().values(**values))


def order(card_id: int, external_id: str, status: str) -> dict[str, Any]:
    return {
        "program_id": 1,
        "card_id": card_id,
        "source": "orders",
        "external_id": external_id,
        "currency": "USD",
        "total_minor": 1000,
        "eligible_minor": 1000,
        "refunded_minor": 0,
        "refunded_eligible_minor": 0,
        "base_points": 50,
        "bonus_points": 0,
        "points_reversed": 0,
        "status": status,
        "paid_at": T0,
        "created_at": T0,
    }


def entry(order_id: int, kind: str, key: str, cause: str, points: int) -> dict[str, Any]:
    return {
        "program_id": 1,
        "card_id": 1,
        "kind": kind,
        "points": points,
        "available_delta": 0,
        "pending_delta": 0,
        "debt_delta": 0,
        "idempotency_key": key,
        "input_hash": "h",
        "cause": cause,
        "order_id": order_id,
        "created_at": T0,
    }


def test_legacy_orders_keep_counting_and_taken_back_rewards_are_not_held(
    empty_database: Database,
) -> None:
    migrate.upgrade(empty_database, "0008")
    with empty_database.engine.begin() as conn:
        insert(
            conn, Program, id=1, slug="demo", name="D", currency="USD", config={},
            config_hash="x", created_at=T0, updated_at=T0,
        )  # fmt: skip
        insert(conn, Customer, id=1, program_id=1, created_at=T0)
        insert(conn, Card, id=1, **{**card_values(1, 1, "1234567897", T0), "paid_orders": 1})
        insert(conn, Order, id=1, **order(1, "kept", "paid"))
        insert(conn, Order, id=2, **order(1, "gone", "cancelled"))
        # the 5th order's reward, then its cancellation took all of it back
        insert(conn, LedgerEntry, **entry(2, "bonus", "orders:order:gone:nth", "every_nth:1", 500))
        insert(conn, LedgerEntry, **entry(2, "reversal", "gone:cancel", "orders:order:gone", 550))
    migrate.upgrade(empty_database)  # through 0012 (the ORM reads the head's columns)
    with Session(empty_database.engine) as session:
        counted = session.execute(select(Order.external_id, Order.counted).order_by(Order.id))
        assert [tuple(row) for row in counted] == [("kept", True), ("gone", False)]
        card_row = session.get(Card, 1)
        assert card_row is not None and held_nth_rewards(session, card_row) == []
