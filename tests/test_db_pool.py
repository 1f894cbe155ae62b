"""The PostgreSQL pool's cheap liveness check and the autocommit sessions of hot paths: a
connection that died while resting in the pool is replaced before anyone uses it, and
``Database.statements`` commits each statement on its own (a plain transaction on SQLite)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from walletcards.db import Database

pytestmark = pytest.mark.postgres


def test_a_pooled_connection_killed_while_resting_is_replaced_at_checkout(
    migrated_database: Database,
) -> None:
    with Database(migrated_database.url, ping_after_idle=0.05) as database:
        with database.transaction() as session:
            first = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with migrated_database.engine.begin() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        time.sleep(0.2)  # rested longer than ping_after_idle: pinged at the next checkout
        with database.transaction() as session:
            second = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first


def test_statements_commit_one_by_one_where_a_transaction_shares_its_start(
    migrated_database: Database,
) -> None:
    with Database(migrated_database.url) as database:
        for unit, separate in ((database.statements, True), (database.transaction, False)):
            with unit() as session:
                start = session.execute(text("SELECT now()")).scalar_one()  # its transaction's
                session.execute(text("SELECT pg_sleep(0.01)"))
                later = session.execute(text("SELECT now()")).scalar_one()
            assert (later > start) is separate
