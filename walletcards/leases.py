"""The worker's claim/lease/send/record loops (cards, card emails, events) share these two:

- :func:`claim`: in one short transaction, take the due rows (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so concurrent workers take disjoint batches), lease them (a deadline column: no
  other worker takes them before it, and a killed worker's rows come back after it) and read
  what sending needs. Sending happens after the commit, outside any transaction; recording the
  outcome is a transaction of its own.
- :func:`backoff`: how long a failed row waits before its next attempt.
- :class:`Waiter`: how a loop with nothing to do sleeps until woken (NOTIFY or an event).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from walletcards.db import Database

T = TypeVar("T")


def claim(
    database: Database,
    model: Any,  # a mapped class with an integer ``id``: Card, OutboxEmail, OutboundEvent
    due: Sequence[ColumnElement[bool]],
    lease: Mapping[str, Any],
    limit: int,
    read: Callable[[Session, list[Row[Any]]], list[T]],
    columns: Sequence[Any] = (),
    order: Sequence[Any] = (),
) -> list[T]:
    """Up to ``limit`` rows matching ``due``, lowest id first (or in ``order``), leased with the
    ``lease`` values;
    ``read(session, rows)`` (rows of ``id`` + ``columns``, read before the lease was written)
    turns them into what the sender needs, in the same transaction. Nothing due: ``[]``."""
    with database.transaction() as session:
        query = select(model.id, *columns).where(*due).order_by(*order or [model.id]).limit(limit)
        if database.is_postgres:
            query = query.with_for_update(skip_locked=True, of=model)
        rows = list(session.execute(query))
        if not rows:
            return []
        session.execute(update(model).where(model.id.in_([row.id for row in rows])).values(lease))
        return read(session, rows)


def backoff(
    attempts: int,
    cap: timedelta,
    first: timedelta = timedelta(seconds=30),
    jitter: float = 0.2,
) -> timedelta:
    """``first`` doubled per attempt, at most ``cap``, times a random factor within ±``jitter``
    (so rows that failed together do not all come back together)."""
    seconds = min(cap.total_seconds(), first.total_seconds() * 2 ** min(attempts, 32))
    return timedelta(seconds=seconds * random.uniform(1 - jitter, 1 + jitter))  # noqa: S311


class Waiter:
    """LISTEN on ``channel`` on PostgreSQL (a dedicated autocommit connection), ``event`` on
    SQLite (set in this process at commit); both with a timeout, the poll fallback."""

    def __init__(self, database: Database, channel: str, event: threading.Event) -> None:
        self._conn = None
        self._event = event
        if database.is_postgres:
            import psycopg

            url = make_url(database.url).set(drivername="postgresql")
            self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._conn.execute(f"LISTEN {channel}")

    def wait(self, timeout: float) -> None:
        if self._conn is None:
            self._event.wait(timeout)
            self._event.clear()
            return
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            break

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
