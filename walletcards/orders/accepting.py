"""Accepting a Shopify or WooCommerce delivery: the request path, kept short.

Per request: the signature on the raw body, the pinned shop and the body's shape (the
source's own parse, every 4xx as before), then ONE statement writes the inbox row:

    INSERT INTO inbox_deliveries … SELECT … FROM programs WHERE id = :program AND
    config_hash = :version ON CONFLICT (program_id, source, delivery_id) DO NOTHING RETURNING …

on PostgreSQL wrapped in a CTE that also wakes the appliers (``pg_notify``, only for a row
written and waiting) and run in autocommit, so the statement is its own transaction: one round
trip where the ORM took a programme query, the insert, ``NOTIFY``, ``BEGIN`` and ``COMMIT``.

What the checks need of the programme (its id, currency, webhook secrets and pinned shops) is
cached per process by slug and held to the stored version by the statement itself: a programme
file applied since (a rotated secret, another pin) makes the insert write nothing, the entry is
read again and the delivery checked again. No row is also what a repeat gets; then the
programme is unchanged and the answer is the same ``accepted``. A delivery the cached entry
refuses (401, 404, 422 …) is refused only once the stored version is confirmed to be that one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, TextClause, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from walletcards.db import INBOX_CHANNEL, Database, inbox_wakeup
from walletcards.errors import ApiError
from walletcards.loyalty.config_tables import WebhooksTable
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import get_program, program_config
from walletcards.orders import intake
from walletcards.orders.events import Delivery
from walletcards.orders.intake import WAITING
from walletcards.orders.models import InboxDelivery

CACHED = 512  # programmes kept per process (a handful in practice; bounded all the same)
ATTEMPTS = 3  # the programme file applied again between the check and the insert: recheck


@dataclass(frozen=True)
class Programme:
    """What accepting needs of a programme, at one version of its file."""

    id: int
    slug: str
    currency: str
    version: str  # programs.config_hash
    webhooks: WebhooksTable


_cache: dict[tuple[str, str], Programme] = {}  # by (database URL, slug)
_cache_lock = threading.Lock()


def programme(database: Database, slug: str, *, fresh: bool = False) -> Programme:
    """The programme ``slug`` from this process's cache (read from the database when absent
    or ``fresh``); UnknownProgram when there is none."""
    key = (database.url, slug)
    if not fresh and (cached := _cache.get(key)) is not None:
        return cached
    with database.transaction() as session:
        found = _programme(get_program(session, slug))
    with _cache_lock:
        if len(_cache) >= CACHED:
            _cache.clear()
        _cache[key] = found
    return found


def _programme(program: Program) -> Programme:
    webhooks = program_config(program).webhooks
    return Programme(program.id, program.slug, program.currency, program.config_hash, webhooks)


def _current_version(database: Database, programme_id: int) -> str | None:
    with database.transaction() as session:
        return session.execute(
            select(Program.config_hash).where(Program.id == programme_id)
        ).scalar_one_or_none()


def accept(
    database: Database,
    slug: str,
    check: Callable[[Programme], Delivery],
    body: bytes,
    now: datetime,
) -> int | None:
    """Check the delivery against the programme (``check``: signature, pin, shape; raises
    what the view answers) and write it to the inbox. The new row's id, or None for a repeat
    of a delivery already there."""
    fresh = False
    for _ in range(ATTEMPTS):
        current = programme(database, slug, fresh=fresh)
        try:
            delivery = check(current)
        except Exception:
            if fresh or _current_version(database, current.id) == current.version:
                raise  # refused by the programme as it stands
            fresh = True  # refused by an older version of the file: check again
            continue
        row_id = insert(database, current, delivery, body, now)
        if row_id is not None:
            return row_id
        if _current_version(database, current.id) == current.version:
            return None  # a repeat: the programme is the one we checked against
        fresh = True  # applied again (or gone) meanwhile: read it, check again
    # (the shop retries a 503; it will find the programme settled)
    raise ApiError(503, "programme_changing", f"programme {slug!r} is being applied: retry")


def insert(
    database: Database, current: Programme, delivery: Delivery, body: bytes, now: datetime
) -> int | None:
    """The inbox row in one statement, unless the programme is no longer at ``current``'s
    version or the delivery id is there already (then None: nothing written)."""
    values = row_values(current, delivery, body, now)
    for attempt in range(2):
        try:
            with database.single_statement() as conn:
                postgres = conn.dialect.name == "postgresql"
                row_id = conn.execute(_POSTGRES if postgres else _PORTABLE, values).scalar()
            break
        except DBAPIError as exc:
            # a pooled connection the database dropped (a restart) is pinged only after it
            # rested (db.PING_AFTER_IDLE): once more on a new one, as a shop may not resend
            # (the statement is idempotent: ON CONFLICT DO NOTHING on the delivery id)
            if attempt or not exc.connection_invalidated:
                raise
    if row_id is not None and values["outcome"] == WAITING and not postgres:
        inbox_wakeup.set()  # SQLite: the in-process appliers (PostgreSQL: pg_notify above)
    return None if row_id is None else int(row_id)


def row_values(
    current: Programme, delivery: Delivery, body: bytes, now: datetime
) -> dict[str, Any]:
    """The statement's parameters: the row as ``intake.accept`` writes it."""
    values: dict[str, Any] = {
        **intake.row_values(current.id, delivery, body, now),
        "version": current.version,
        "outcome": WAITING,
        "detail": None,
        "response": None,
        "applied_at": None,
    }
    if delivery.ignored_reason:  # recorded ignored at once: no applier needed
        ignored = {"status": "ignored", "card": None, "balance": None}
        values.update(
            outcome="ignored",
            detail=delivery.ignored_reason,
            response={**ignored, "detail": delivery.ignored_reason},
            applied_at=now,
        )
    return values


# (SQLite needs the WHERE to read ON CONFLICT as the upsert clause: it is always there)
_INSERT = """
INSERT INTO inbox_deliveries (program_id, source, shop, topic, delivery_id, event_id,
    triggered_at, order_ref, received_at, body, outcome, detail, response, applied_at, attempts)
SELECT id, :source, :shop, :topic, :delivery_id, :event_id, :triggered_at, :order_ref,
       :received_at, :body, :outcome, :detail, :response, :applied_at, 0
FROM programs WHERE id = :program_id AND config_hash = :version
ON CONFLICT (program_id, source, delivery_id) DO NOTHING
RETURNING id, outcome"""
# a waiting row wakes the appliers at commit (LISTEN walletcards_inbox: db.INBOX_CHANNEL)
_NOTIFY = """
SELECT id, CASE WHEN outcome = 'accepted' THEN pg_notify('walletcards_inbox', '') END
FROM written"""
assert WAITING == "accepted" and INBOX_CHANNEL == "walletcards_inbox"


def _typed(sql: str) -> TextClause:
    columns = InboxDelivery.__table__.c
    times = (bindparam(name, type_=columns[name].type) for name in _TIMES)
    # a waiting row's response is SQL NULL, as the ORM leaves an omitted column (not JSON null)
    return text(sql).bindparams(*times, bindparam("response", type_=JSON(none_as_null=True)))


_TIMES = ("triggered_at", "received_at", "applied_at")


_PORTABLE = _typed(_INSERT)
_POSTGRES = _typed("WITH written AS (" + _INSERT + ")" + _NOTIFY)
