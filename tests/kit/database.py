"""One migrated database per test session (a SQLite file or a fresh PostgreSQL database) and
a frozen clock. A test runs inside one transaction rolled back at its end (every unit of work
in a savepoint of it); a test that needs real commits, because other connections, threads or
processes must see its rows, is marked ``committing`` and finds every table emptied after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from walletcards import migrate
from walletcards.apple import models as _apple_models  # noqa: F401  (tables to empty)
from walletcards.cashier import models as _cashier_models  # noqa: F401
from walletcards.clock import FixedClock
from walletcards.db import Database, Model
from walletcards.google import models as _google_models  # noqa: F401
from walletcards.loyalty import models as _loyalty_models  # noqa: F401
from walletcards.loyalty import redemption_models as _redemption_models  # noqa: F401
from walletcards.messages import models as _message_models  # noqa: F401
from walletcards.orders import models as _order_models  # noqa: F401
from walletcards.staff import models as _staff_models  # noqa: F401

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL_VARIABLE = "WALLETCARDS_TEST_DATABASE_URL"  # the test database; tests/conftest.py names it too


def suite_url(tmp_root: Path) -> str:
    """The database the suite runs on: $WALLETCARDS_TEST_DATABASE_URL, else a SQLite file."""
    return os.environ.get(URL_VARIABLE) or f"sqlite:///{tmp_root / 'test.db'}"


@contextmanager
def scratch_database(url: str, label: str) -> Iterator[str]:
    """The URL of a database of its own: on PostgreSQL one created beside ``url``'s and dropped
    afterwards; a SQLite URL is a file already of its own (the caller's temporary path)."""
    if not url.startswith("postgresql"):
        yield url
        return
    name = f"walletcards_{label}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A fresh database per test session, so parallel runs and old data never interfere.
    with scratch_database(suite_url(tmp_path_factory.mktemp("db")), "test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> Iterator[Database]:
    """The session's database, migrated once; tests use ``database``."""
    db = Database(database_url)
    migrate.upgrade(db)
    yield db
    db.dispose()


def empty_tables(db: Database) -> None:
    """Delete every row (PostgreSQL: truncate, restarting the identities)."""
    tables = [t.name for t in reversed(Model.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_postgres:
            # table names come from our own metadata, not from input
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608


COMMITTING_MARKERS = ("committing", "postgres")
OWN_CONNECTIONS = {"live_server"}  # fixtures serving the app to threads of their own


def commits(request: pytest.FixtureRequest) -> bool:
    """Whether the test needs real commits: it is marked so (PostgreSQL concurrency tests are)
    or it serves the app to other threads, which cannot share the test's one connection."""
    node = request.node
    marked = any(node.get_closest_marker(name) for name in COMMITTING_MARKERS)
    return marked or not OWN_CONNECTIONS.isdisjoint(request.fixturenames)


def join_every_database(monkeypatch: pytest.MonkeyPatch, url: str, outer: Connection) -> None:
    """Make every ``Database`` opened on ``url`` meanwhile (the app's, a CLI command's, a
    worker's) run its units of work in savepoints of the transaction on ``outer``."""
    made = Database.__init__

    def joining(
        self: Database, to: str, *, connection: Connection | None = None, **engine: Any
    ) -> None:
        if to == url and connection is None and not engine:  # (with pool sizes: its own)
            connection = outer
        made(self, to, connection=connection, **engine)

    monkeypatch.setattr(Database, "__init__", joining)


@pytest.fixture
def database(migrated_database: Database, request: pytest.FixtureRequest) -> Iterator[Database]:
    """The test database: a test's writes are rolled back at its end (see the module's doc)."""
    if commits(request):
        yield migrated_database
        empty_tables(migrated_database)
        return
    with migrated_database.engine.connect() as connection, pytest.MonkeyPatch.context() as patch:
        outer = connection.begin()
        join_every_database(patch, migrated_database.url, connection)
        try:
            yield Database(migrated_database.url)
        finally:
            outer.rollback()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)
