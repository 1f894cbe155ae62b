"""The sync worker: brings every card's wallets up to date after any ledger change.

"Needs a push" is the durable gap ``version > pushed_version`` on the card row, so a worker
killed at any instant loses nothing. One step:

1. (transaction) claim a batch of due cards, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and
   lease them for a minute so no other worker pushes them meanwhile; read their devices;
2. (no transaction) push every device over APNs;
3. (transaction) record: delivered -> ``pushed_version`` = the claimed version (never lower);
   dead tokens -> registration deleted; 429/5xx/dropped -> retried after a backoff with jitter;
   403 -> reported once and parked for an hour. Outcomes are per device (a malformed token,
   one that no URL can carry or an odd answer is that device's alone), so one bad
   registration never holds back the other cards of its batch.

Several changes before a claim coalesce into one push; a change during a push leaves
``version`` ahead, so the card is pushed again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Table, bindparam, delete, or_, select, update
from sqlalchemy.engine import make_url

from walletcards import metrics
from walletcards.apple.apns import Outcome, short
from walletcards.apple.models import AppleRegistration
from walletcards.apple.passes import pass_type_identifier
from walletcards.clock import Clock
from walletcards.db import CARDS_CHANNEL, Database, local_wakeup
from walletcards.google.client import GoogleWalletError, PermissionDenied
from walletcards.google.sync import (
    GoogleClients,
    GoogleUpdate,
    google_table,
    plan_update,
    record_update,
)
from walletcards.loyalty.models import Card, Program
from walletcards.settings import Settings
from walletcards.sync.pusher import Pusher

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
FORBIDDEN_PARK = timedelta(hours=1)
MAX_BACKOFF_SECONDS = 300
SUMMARY_EVERY = 300.0  # seconds between the worker's summary log lines
CERTIFICATES_EVERY = 24 * 3600.0  # the Apple certificates' expiry check, after the start-up one


@dataclass
class Claim:
    card_id: int
    version: int
    program_id: int
    devices: list[tuple[int, str]] = field(default_factory=list)  # (registration id, token)
    google: GoogleUpdate | None = None  # the object body to PATCH, for programmes with [google]
    google_outcome: Outcome = Outcome.DELIVERED


@dataclass
class StepReport:
    cards: int = 0
    pushed: int = 0
    dead: int = 0
    retry: int = 0


def backoff(attempts: int) -> timedelta:
    base = min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 10))
    return timedelta(seconds=base * random.uniform(0.5, 1.5))  # noqa: S311  (jitter, not crypto)


class Worker:
    def __init__(
        self,
        database: Database,
        pusher: Pusher,
        clock: Clock,
        batch: int = 500,
        lease: timedelta = LEASE,
        google: GoogleClients | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.database, self.pusher, self.clock, self.batch = database, pusher, clock, batch
        self.lease = lease
        self.google, self.settings = google, settings

    def _claim(self) -> tuple[list[Claim], dict[int, Program]]:
        now = self.clock.now()
        with self.database.transaction() as session:
            query = (
                select(Card.id, Card.version, Card.program_id)
                .where(
                    Card.version > Card.pushed_version,
                    or_(Card.push_lease_until.is_(None), Card.push_lease_until <= now),
                )
                .order_by(Card.id)
                .limit(self.batch)
            )
            if self.database.is_postgres:
                query = query.with_for_update(skip_locked=True, of=Card)
            claims = {
                row.id: Claim(row.id, row.version, row.program_id) for row in session.execute(query)
            }
            if not claims:
                return [], {}
            session.execute(
                update(Card).where(Card.id.in_(claims)).values(push_lease_until=now + self.lease)
            )
            for reg_id, card_id, token in session.execute(
                select(
                    AppleRegistration.id, AppleRegistration.card_id, AppleRegistration.push_token
                ).where(AppleRegistration.card_id.in_(claims))
            ):
                claims[card_id].devices.append((reg_id, token))
            ids = {c.program_id for c in claims.values()}
            programs = {
                p.id: p
                for p in session.execute(select(Program).where(Program.id.in_(ids))).scalars()
            }
            if self.google is not None and self.settings is not None:
                for claim in claims.values():
                    program = programs[claim.program_id]
                    if google_table(program) is not None:
                        card = session.get(Card, claim.card_id)
                        assert card is not None
                        claim.google = plan_update(session, program, card, self.settings, now)
        return list(claims.values()), programs

    def step(self) -> StepReport:
        """Claim, push, record one batch; returns what it did (cards == 0: nothing due)."""
        claims, programs = self._claim()
        report = StepReport(cards=len(claims))
        if not claims:
            return report
        by_program: dict[int, list[Claim]] = defaultdict(list)
        for claim in claims:
            by_program[claim.program_id].append(claim)
        outcomes: dict[str, Outcome] = {}
        for program_id, group in by_program.items():
            program = programs[program_id]
            topic = pass_type_identifier(program)
            tokens = sorted({token for c in group for _, token in c.devices})
            if topic and tokens:
                try:
                    outcomes.update(self.pusher.push(program, topic, tokens))
                except Exception:  # a broken [apple] setup must not stop other programmes
                    log.exception("pushing programme %s failed", program.slug)
                    outcomes.update(dict.fromkeys(tokens, Outcome.FORBIDDEN))
        self._push_google(claims, programs)
        self._record(claims, outcomes, report)
        metrics.record_pushes(claims, outcomes)
        return report

    def _push_google(self, claims: list[Claim], programs: dict[int, Program]) -> None:
        """PATCH each card's Google object (outside any transaction)."""
        if self.google is None:
            return
        for claim in claims:
            if claim.google is None:
                continue
            program = programs[claim.program_id]
            try:
                self.google.ensure_class(program)
                self.google.client(program).upsert_object(claim.google.body, claim.google.notify)
            except PermissionDenied as exc:
                log.error("Google Wallet, programme %s: %s", program.slug, exc)
                claim.google_outcome = Outcome.FORBIDDEN
            except GoogleWalletError as exc:
                log.warning(
                    "Google Wallet %s %s for card %s", exc.status, exc.reason, claim.card_id
                )
                claim.google_outcome = Outcome.RETRY

    def _record(
        self, claims: list[Claim], outcomes: dict[str, Outcome], report: StepReport
    ) -> None:
        now = self.clock.now()
        with self.database.transaction() as session:
            done: list[dict[str, int]] = []
            for claim in claims:
                results = [outcomes.get(token, Outcome.DELIVERED) for _, token in claim.devices]
                if claim.google is not None and claim.google_outcome is Outcome.DELIVERED:
                    record_update(session, claim.google, now)
                for (reg_id, token), outcome in zip(claim.devices, results, strict=True):
                    if outcome is Outcome.DEAD:
                        report.dead += 1
                        log.info("registration %s removed (push token %s)", reg_id, short(token))
                        session.execute(
                            delete(AppleRegistration).where(
                                AppleRegistration.id == reg_id,
                                AppleRegistration.push_token == token,
                            )
                        )
                    elif outcome is Outcome.DELIVERED:
                        report.pushed += 1
                card = update(Card).where(Card.id == claim.card_id)
                results.append(claim.google_outcome)
                if Outcome.RETRY in results or Outcome.FORBIDDEN in results:
                    report.retry += 1
                    attempts = session.execute(
                        select(Card.push_attempts).where(Card.id == claim.card_id)
                    ).scalar_one()
                    wait = FORBIDDEN_PARK if Outcome.FORBIDDEN in results else backoff(attempts)
                    session.execute(
                        card.values(push_lease_until=now + wait, push_attempts=attempts + 1)
                    )
                else:
                    done.append({"b_card": claim.card_id, "b_version": claim.version})
            if done:  # one executemany for the common case, not a statement per card
                cards = Card.__table__
                assert isinstance(cards, Table)
                session.connection().execute(
                    cards.update()
                    .where(
                        cards.c.id == bindparam("b_card"),
                        cards.c.pushed_version < bindparam("b_version"),
                    )
                    .values(
                        pushed_version=bindparam("b_version"),
                        push_lease_until=None,
                        push_attempts=0,
                    ),
                    done,
                )

    def deliver_outbox(self) -> int:
        """Card emails and outbound events that are due (see walletcards/outbound)."""
        if self.settings is None:
            return 0
        from walletcards.outbound.delivery import deliver_emails, deliver_events

        now = self.clock.now()
        return deliver_emails(self.database, self.settings, now) + deliver_events(
            self.database, self.settings, now
        )

    def drain(self, max_steps: int = 10_000) -> StepReport:
        """Steps until nothing is due now (tests, `jobs`, the bench)."""
        total = StepReport()
        for _ in range(max_steps):
            report = self.step()
            if report.cards == 0:
                break
            total.cards += report.cards
            total.pushed += report.pushed
            total.dead += report.dead
            total.retry += report.retry
        return total

    def run(
        self,
        stop: threading.Event,
        poll: float = 5.0,
        jobs_every: float = 60.0,
        summary_every: float = SUMMARY_EVERY,
    ) -> None:
        """Forever: jobs when due, batches while there is work, then sleep until woken; logs a
        start-up line, a summary every ``summary_every`` seconds and its shutdown."""
        from walletcards.sync.activity import Activity, announce, check_certificates
        from walletcards.sync.jobs import run_due

        announce(self.database, self.settings, self.clock.now())
        activity, started = Activity(), time.monotonic()
        waiter = _Waiter(self.database)
        next_jobs, next_certificates = 0.0, started + CERTIFICATES_EVERY
        try:
            while not stop.is_set():
                if time.monotonic() >= next_jobs:
                    try:
                        activity.jobs.update(run_due(self.database, self.clock.now()))
                        activity.job_runs += 1
                    except Exception:
                        activity.errors += 1
                        log.exception("scheduled jobs failed; will try again")
                    next_jobs = time.monotonic() + jobs_every
                try:
                    report = self.step()
                    activity.cards += report.cards
                    activity.devices += report.pushed
                    activity.dead += report.dead
                    activity.retry += report.retry
                    delivered = self.deliver_outbox()
                    activity.delivered += delivered
                    busy = report.cards > 0 or delivered > 0
                except Exception:
                    activity.errors += 1
                    log.exception("sync step failed; will try again")
                    busy = False
                if time.monotonic() - activity.started >= summary_every:
                    activity.summarise(self.database, self.clock.now())
                    activity = Activity()
                if time.monotonic() >= next_certificates:
                    check_certificates(self.database, self.clock.now())
                    next_certificates = time.monotonic() + CERTIFICATES_EVERY
                if not busy:
                    waiter.wait(min(poll, summary_every), stop)
        finally:
            waiter.close()
            log.info("worker stopped after %d s", round(time.monotonic() - started))


class _Waiter:
    """LISTEN on PostgreSQL (a dedicated autocommit connection), an in-process event on
    SQLite; both with a timeout, the poll fallback."""

    def __init__(self, database: Database) -> None:
        self._conn = None
        if database.is_postgres:
            import psycopg

            url = make_url(database.url).set(drivername="postgresql")
            self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._conn.execute(f"LISTEN {CARDS_CHANNEL}")

    def wait(self, timeout: float, stop: threading.Event) -> None:
        if self._conn is None:
            local_wakeup.wait(timeout)
            local_wakeup.clear()
            return
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            break

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
