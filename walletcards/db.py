"""Model base, engine and the one way to open a transaction.

Only entry points (views, CLI commands, worker steps) call :meth:`Database.transaction`;
domain functions take the session and never commit.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
    exc,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from walletcards.clock import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite stores naive values; we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def make_engine(url: str, *, ping_after_idle: float | None = None, **kwargs: Any) -> Engine:
    """An engine tuned per backend.

    SQLite: WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` so that concurrent writers
    queue for the write lock instead of failing when a read lock cannot be upgraded.
    PostgreSQL: psycopg 3, READ COMMITTED with explicit row locks where it matters; a pooled
    connection is pinged at checkout once it has rested ``ping_after_idle`` seconds
    (:data:`PING_AFTER_IDLE`), not on every checkout.
    Both: ``hide_parameters``, so a logged database error shows the statement but never the
    values bound to it (emails, phone numbers, push tokens).
    """
    kwargs["hide_parameters"] = True
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, PING_AFTER_IDLE if ping_after_idle is None else ping_after_idle)
    return engine


PING_AFTER_IDLE = 1.0  # seconds a pooled connection may rest before it is pinged at checkout


def _ping_when_idle(engine: Engine, idle: float) -> None:
    """A pooled connection is pinged at checkout only after resting ``idle`` seconds: what the
    pool's pre-ping does (a connection that died is replaced, the request never sees it), but
    not one round trip per request under load. A database restart within the last second
    may fail the one request that takes each connection broken by it (the pool then replaces
    all connections older than the failure)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["walletcards.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("walletcards.idle_since", 0.0)
        if time.monotonic() - since < idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("the pooled connection did not answer a ping") from error


class Database:
    """An engine plus a session factory; one per process (app, CLI command or worker).

    Tests may pass ``connection``, one already in a transaction: every unit of work then runs
    in a savepoint of it (what a commit does is released, the test rolls the whole back) and
    the engine is the connection's, which the test owns and disposes of."""

    def __init__(
        self, url: str, *, connection: Connection | None = None, **engine_kwargs: Any
    ) -> None:
        self.url = url
        self._joined = connection is not None
        self._autocommit: sessionmaker[Session] | None = None
        if connection is None:
            self.engine = make_engine(url, **engine_kwargs)
            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
            if self.is_postgres:
                self._each = self.engine.execution_options(isolation_level="AUTOCOMMIT")
                self._autocommit = sessionmaker(self._each, expire_on_commit=False)
                _install_commit_effects(self._autocommit)
        else:
            self.engine = connection.engine
            self._sessions = sessionmaker(
                connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        _install_commit_effects(self._sessions)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def concurrent(self) -> bool:
        """Whether threads may run units of work at once (not on a test's one connection)."""
        return not self._joined

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def single_statement(self) -> Iterator[Connection]:
        """A Core connection for ONE self-contained statement, committed on success (the
        webhooks' accepting insert). PostgreSQL: autocommit, so the statement is its own
        transaction without BEGIN and COMMIT round trips; SQLite: ``engine.begin()``. A
        Database joined to a test's connection runs it in a savepoint of that transaction."""
        if self._joined:
            with self.transaction() as session:
                yield session.connection()
        elif self._autocommit is not None:  # PostgreSQL: the autocommit engine
            with self._each.connect() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def statements(self) -> Iterator[Session]:
        """PostgreSQL: a session whose every statement commits on its own (no ``BEGIN`` and
        ``COMMIT`` round trips), for a hot path of reads (each READ COMMITTED statement sees
        its own snapshot either way) with at most one write that stands alone (the pass
        GET). SQLite, or a test's joined connection: an ordinary :meth:`transaction`."""
        if self._autocommit is None:
            with self.transaction() as session:
                yield session
            return
        with self._autocommit() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not reachable"
            return False
        return True

    def dispose(self) -> None:
        if not self._joined:
            self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()


def lock_names(session: Session, names: list[str]) -> None:
    """Serialise transactions that would create the same thing (e.g. a customer by email).

    PostgreSQL: transaction-scoped advisory locks on 64-bit hashes of ``names``, taken in the
    order given (sort them, to avoid deadlocks) in one round trip and released at commit.
    SQLite: nothing to do, ``BEGIN IMMEDIATE`` already serialises writers."""
    if not names or session.get_bind().dialect.name != "postgresql":
        return
    keys = {
        f"k{i}": int.from_bytes(
            hashlib.blake2b(n.encode(), digest_size=8).digest(), "big", signed=True
        )
        for i, n in enumerate(names)
    }
    locks = ", ".join(f"pg_advisory_xact_lock(:{key})" for key in keys)
    session.execute(text(f"SELECT {locks}"), keys)


# --- After the transaction ---------------------------------------------------------------
# What a transaction does once it commits, asked for explicitly by the code that causes it:
# waking the sync workers (:func:`wake_workers`, called by ``loyalty.cards.card_changed``), the
# appliers (:func:`wake_appliers`, called when a delivery is accepted into the inbox) and
# actions such as counting metrics (:func:`on_commit`). The listeners sit on each Database's own
# sessionmaker; a rollback forgets everything. Waking: PostgreSQL NOTIFY inside the transaction
# (delivered at commit, so a rollback wakes no one); SQLite, an in-process event after commit
# (the embedded default runs its worker as a thread). Workers also poll: a lost wake-up only
# delays a push.
CARDS_CHANNEL = "walletcards_cards"
INBOX_CHANNEL = "walletcards_inbox"
local_wakeup = threading.Event()
inbox_wakeup = threading.Event()
_WAKE = "walletcards.wake_workers"
_WAKE_INBOX = "walletcards.wake_appliers"
_ON_COMMIT = "walletcards.on_commit"


def wake_workers(session: Session) -> None:
    """Wake the sync workers when ``session``'s transaction commits (a card needs a push)."""
    session.info[_WAKE] = True


def wake_appliers(session: Session) -> None:
    """Wake the appliers when ``session``'s transaction commits (a delivery waits in the inbox)."""
    session.info[_WAKE_INBOX] = True


def on_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` after ``session``'s transaction commits; never if it rolls back."""
    session.info.setdefault(_ON_COMMIT, []).append(action)


def _install_commit_effects(sessions: sessionmaker[Session]) -> None:
    event.listen(sessions, "before_commit", _notify_workers)
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_rollback", _forget)


def _notify_workers(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    if session.info.get(_WAKE):
        session.execute(text(f"NOTIFY {CARDS_CHANNEL}"))
    if session.info.get(_WAKE_INBOX):
        session.execute(text(f"NOTIFY {INBOX_CHANNEL}"))


def _after_commit(session: Session) -> None:
    if session.info.pop(_WAKE, False):
        local_wakeup.set()
    if session.info.pop(_WAKE_INBOX, False):
        inbox_wakeup.set()
    for action in session.info.pop(_ON_COMMIT, ()):
        action()


def _forget(session: Session) -> None:
    session.info.pop(_WAKE, None)
    session.info.pop(_WAKE_INBOX, None)
    session.info.pop(_ON_COMMIT, None)
