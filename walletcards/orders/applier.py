"""The appliers: accepted webhook deliveries out of the inbox and into the ledger.

A webhook view only verifies a delivery and accepts it into the inbox (outcome ``accepted``,
orders/intake.py ``accept``); an applier, a thread of ``walletcards worker`` and of the embedded
``walletcards serve``, applies it soon after. One step is ONE transaction:

1. claim a batch of waiting deliveries, oldest first (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
   so concurrent appliers take disjoint batches; SQLite has one writer at a time). A delivery
   is not claimed while an earlier delivery of the same order still waits: one order's
   deliveries are applied in the order they arrived, whichever applier takes them;
2. apply each exactly as the synchronous path does (``intake.apply``: the same business keys
   dedupe). First all together (:func:`apply_together`, no savepoints: a batch that applies
   cleanly, the common case, costs no extra statements; its orders' and customers' locks are
   taken in one statement and its orders looked up at once, loyalty/order_batch.py); should
   any of them fail, that transaction is rolled back whole and the step starts again with
   each in a savepoint (:func:`apply_batch`). One the ledger refuses (``LedgerError``, what
   the synchronous view answered 409/422) is recorded ``refused`` with the error, for good;
   one that fails otherwise rolls back alone, is retried after a backoff and, after
   ``MAX_ATTEMPTS``, parked (outcome ``parked``, ``inbox list`` shows it, ``inbox retry``
   queues it again) without holding up the others; a parked delivery no longer holds back
   later deliveries of its order;
3. commit: outcomes and ledger together. An applier killed mid-batch commits nothing; its row
   locks go with its connection and the next applier takes the same deliveries.

Appliers wake on ``LISTEN walletcards_inbox`` (NOTIFY at the accepting commit) on PostgreSQL,
an in-process event on SQLite, and poll as a fallback.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from walletcards.clock import Clock
from walletcards.db import INBOX_CHANNEL, Database, inbox_wakeup
from walletcards.leases import Waiter, backoff
from walletcards.loyalty.ledger import LedgerError
from walletcards.loyalty.models import Program
from walletcards.orders import intake
from walletcards.orders.events import Delivery
from walletcards.orders.inbox import stored_delivery
from walletcards.orders.intake import PARKED, WAITING
from walletcards.orders.models import InboxDelivery

log = logging.getLogger(__name__)
BATCH = 100
MAX_ATTEMPTS = 8  # then parked: about 4 minutes of retries
FIRST_BACKOFF = timedelta(seconds=1)
MAX_BACKOFF = timedelta(seconds=120)
MAX_DETAIL = 500
REFUSED = "refused"  # the ledger refused it (e.g. a refund id again with other amounts)
REFUSAL = {"status": REFUSED, "card": None, "balance": None}


def claim(session: Session, now: datetime, limit: int) -> list[InboxDelivery]:
    """Up to ``limit`` deliveries due now, locked until the caller's transaction ends."""
    earlier = aliased(InboxDelivery)
    blocked = exists().where(
        earlier.program_id == InboxDelivery.program_id,
        earlier.source == InboxDelivery.source,
        earlier.order_ref == InboxDelivery.order_ref,
        earlier.id < InboxDelivery.id,
        earlier.outcome == WAITING,
    )
    query = (
        select(InboxDelivery)
        .where(
            InboxDelivery.outcome == WAITING,
            or_(InboxDelivery.apply_after.is_(None), InboxDelivery.apply_after <= now),
            ~blocked,
        )
        .order_by(InboxDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=InboxDelivery)
    return list(session.execute(query).scalars())


class _Failed(Exception):
    """A delivery of a batch applied together failed: the transaction is rolled back whole."""


def apply_together(
    session: Session, rows: list[InboxDelivery], public_url: str, now: datetime
) -> None:
    """Apply ``rows`` (claimed in ``session``) without savepoints; :class:`_Failed` (the
    caller rolls back everything) when any of them fails, refused or not."""
    ids = {row.program_id for row in rows}
    programs = {
        p.id: p for p in session.execute(select(Program).where(Program.id.in_(ids))).scalars()
    }
    ctx = intake.Context(public_url, now)
    done = []
    # the ids read now: after a failed flush the session has rolled back and expired the rows,
    # and reading ``row.id`` then raises instead of the _Failed that starts the one-by-one pass
    row_ids = [row.id for row in rows]
    deliveries: list[Delivery] = []
    try:
        for row in rows:  # every body read first: the batch's look-ups need them all
            deliveries.append(stored_delivery(row, programs[row.program_id])[0])
        known = {  # each programme's orders locked and looked up at once
            program_id: intake.batch_look_up(
                session,
                program,
                [
                    d
                    for row, d in zip(rows, deliveries, strict=True)
                    if row.program_id == program_id
                ],
            )
            for program_id, program in sorted(programs.items())
        }
        for row, delivery in zip(rows, deliveries, strict=True):
            program = programs[row.program_id]
            done.append(intake.applied(session, program, delivery, ctx, known[program.id]))
        for row, applied in zip(rows, done, strict=True):  # one UPDATE for the batch's rows
            intake.record(row, applied, now)
        session.flush()
    except Exception as exc:
        # the one being read or applied, else the last
        at = len(done) if len(deliveries) == len(rows) else len(deliveries)
        failing = row_ids[min(at, len(rows) - 1)]
        raise _Failed(f"inbox delivery {failing}: {type(exc).__name__}") from exc


def apply_batch(
    session: Session, rows: list[InboxDelivery], public_url: str, now: datetime
) -> tuple[int, int]:
    """Apply ``rows`` (claimed in ``session``); (applied, failed)."""
    ids = {row.program_id for row in rows}
    programs = {
        p.id: p for p in session.execute(select(Program).where(Program.id.in_(ids))).scalars()
    }
    ctx = intake.Context(public_url, now)
    failed = 0
    for row in rows:
        try:
            with session.begin_nested():
                delivery, _ = stored_delivery(row, programs[row.program_id])
                intake.apply(session, programs[row.program_id], row, delivery, ctx)
        except LedgerError as exc:  # the ledger refuses it, as the view answered 4xx: final
            row.outcome, row.detail, row.applied_at = REFUSED, str(exc)[:MAX_DETAIL], now
            row.response = {**REFUSAL, "error": {"code": exc.code, "message": str(exc)}}
        except Exception as exc:  # this delivery's alone: the savepoint rolled it back
            failed += 1
            _failed(row, exc, now)
    return len(rows) - failed, failed


def _failed(row: InboxDelivery, exc: Exception, now: datetime) -> None:
    row.attempts += 1
    row.detail = f"attempt {row.attempts}: {type(exc).__name__}: {exc}"[:MAX_DETAIL]
    if row.attempts >= MAX_ATTEMPTS:
        row.outcome, row.apply_after = PARKED, None
        log.error("inbox delivery %s parked after %s attempts: %s", row.id, row.attempts, exc)
    else:
        row.apply_after = now + backoff(row.attempts - 1, MAX_BACKOFF, FIRST_BACKOFF)
        log.warning("inbox delivery %s failed (attempt %s): %s", row.id, row.attempts, exc)


class Applier:
    def __init__(
        self, database: Database, public_url: str, clock: Clock, batch: int = BATCH
    ) -> None:
        self.database, self.public_url, self.clock, self.batch = database, public_url, clock, batch

    def step(self) -> int:
        """One batch in one transaction; how many deliveries it took (0: nothing due)."""
        try:
            with self.database.transaction() as session:
                rows = claim(session, self.clock.now(), self.batch)
                if len(rows) > 1:
                    apply_together(session, rows, self.public_url, self.clock.now())
                elif rows:
                    apply_batch(session, rows, self.public_url, self.clock.now())
                return len(rows)
        except _Failed as exc:  # rolled back: again, each delivery in its savepoint
            log.info("a batch did not apply together (%s); one by one", exc)
        with self.database.transaction() as session:
            rows = claim(session, self.clock.now(), self.batch)
            if rows:
                apply_batch(session, rows, self.public_url, self.clock.now())
        return len(rows)

    def drain(self, max_steps: int = 100_000) -> int:
        """Steps until nothing is due now (tests, ``inbox apply``, the bench)."""
        total = 0
        for _ in range(max_steps):
            taken = self.step()
            if taken == 0:
                break
            total += taken
        return total

    def run(self, stop: threading.Event, poll: float = 5.0) -> None:
        """Until ``stop`` is set: batches while there is work, then sleep until woken."""
        waiter = Waiter(self.database, INBOX_CHANNEL, inbox_wakeup)
        try:
            while not stop.is_set():
                try:
                    busy = self.step() > 0
                except Exception:
                    log.exception("applying the inbox failed; will try again")
                    busy = False
                    stop.wait(1.0)
                if not busy:
                    waiter.wait(poll)
        finally:
            waiter.close()


def run_applier(database: Database, public_url: str, clock: Clock, stop: threading.Event) -> None:
    """An applier until ``stop`` (a thread of the worker and of ``serve``)."""
    started = time.monotonic()
    Applier(database, public_url, clock).run(stop)
    log.debug("applier stopped after %d s", round(time.monotonic() - started))  # the worker's
    # own line is the last one its log shows
