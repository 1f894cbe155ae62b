"""The sync worker: brings every card's wallets up to date after any ledger change, delivers
the outbox (card emails, events) and runs the scheduled jobs; its applier threads apply the
webhook deliveries accepted into the inbox (walletcards/orders/applier.py).

:func:`run_worker` is the one way it runs (`walletcards worker`, and the thread of
`walletcards serve`); every outside system it talks to comes from its ``Clients``. A step
claims, pushes and records one batch of cards (walletcards/sync/cards.py), while its fresh lane
(:class:`FreshLane`) pushes the cards just changed beside it; the outbox loops are
walletcards/outbound/delivery.py; all three claim through walletcards/leases.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from datetime import timedelta

from walletcards import metrics
from walletcards.apple.apns import ApnsPusher
from walletcards.clients import Clients
from walletcards.db import CARDS_CHANNEL, Database, local_wakeup
from walletcards.leases import Waiter
from walletcards.settings import Settings
from walletcards.sync.cards import (
    Claim,
    StepReport,
    claim_cards,
    push_apple,
    push_google,
    record,
)

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
SUMMARY_EVERY = 300.0  # seconds between the worker's summary log lines
CERTIFICATES_EVERY = 24 * 3600.0  # the Apple certificates' expiry check, after the start-up one
# The fresh lane: on each wake-up, the cards changed in the last FRESH_WINDOW, FRESH_BATCH at a
# time, newest first, beside the batch in flight.
FRESH_WINDOW = timedelta(seconds=30)
FRESH_BATCH = 50


def run_worker(
    database: Database,
    clients: Clients,
    settings: Settings,
    stop: threading.Event,
    batch: int = 500,
    lease: timedelta = LEASE,
    appliers: int = 1,
) -> None:
    """Work until ``stop`` is set (the caller owns, and closes, the clients), with ``appliers``
    threads applying the inbox's accepted deliveries (walletcards/orders/applier.py)."""
    from walletcards.orders.applier import run_applier

    threads = [
        threading.Thread(
            target=run_applier,
            args=(database, settings.public_url, clients.clock, stop),
            name=f"applier-{number}",
            daemon=True,
        )
        for number in range(appliers)
    ]
    for thread in threads:
        thread.start()
    try:
        Worker(database, clients, settings, batch=batch, lease=lease).run(stop)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)


class Worker:
    def __init__(
        self,
        database: Database,
        clients: Clients,
        settings: Settings,
        batch: int = 500,
        lease: timedelta = LEASE,
    ) -> None:
        self.database, self.clients, self.settings = database, clients, settings
        self.clock = clients.clock
        self.batch, self.lease = batch, lease
        self.fresh_batch = FRESH_BATCH
        self.fresh_lane = False  # whether a FreshLane runs beside this worker's steps
        self.fresh_clients = clients  # the lane's: APNs connections of its own (FreshLane)

    def step(self) -> StepReport:
        """Claim, push, record one batch; returns what it did (cards == 0: nothing due)."""
        now, latest = self.clock.now(), not self.fresh_lane  # (the lane takes the latest)
        claims = claim_cards(
            self.database, self.settings, now, self.batch, self.lease, None, latest
        )
        return self._push_and_record(claims)

    def fresh_step(self) -> StepReport:
        """Claim, push, record the cards changed in the last ``FRESH_WINDOW``, newest first."""
        now = self.clock.now()
        since = now - FRESH_WINDOW
        claims = claim_cards(self.database, self.settings, now, self.fresh_batch, self.lease, since)
        return self._push_and_record(claims, self.fresh_clients)

    def _push_and_record(self, claims: list[Claim], clients: Clients | None = None) -> StepReport:
        if not claims:
            return StepReport()
        clients = clients or self.clients
        outcomes = push_apple(clients, claims)
        push_google(clients, self.settings, claims)
        report = record(self.database, claims, outcomes, self.clock.now())
        metrics.record_pushes(claims, outcomes)
        return report

    def deliver_outbox(self) -> int:
        """Card emails and outbound events that are due (see walletcards/outbound)."""
        from walletcards.outbound.delivery import deliver_emails, deliver_events

        now, clients = self.clock.now(), self.clients
        return deliver_emails(self.database, self.settings, clients.mailer, now) + deliver_events(
            self.database, self.settings, clients.events, now
        )

    def drain(self, max_steps: int = 10_000) -> StepReport:
        """Steps until nothing is due now (tests, `jobs`, the bench)."""
        total = StepReport()
        for _ in range(max_steps):
            report = self.step()
            if report.cards == 0:
                break
            total.add(report)
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
        waiter = Waiter(self.database, CARDS_CHANNEL, local_wakeup)
        next_jobs, next_certificates = 0.0, started + CERTIFICATES_EVERY
        fresh = FreshLane(self, poll)
        try:
            while not stop.is_set():
                if time.monotonic() >= next_jobs:
                    try:
                        now, url = self.clock.now(), self.settings.public_url
                        activity.jobs.update(run_due(self.database, now, self.clients, url))
                        activity.job_runs += 1
                    except Exception:
                        activity.errors += 1
                        log.exception("scheduled jobs failed; will try again")
                    next_jobs = time.monotonic() + jobs_every
                try:
                    report = self.step()
                    busy = report.cards > 0
                    report.add(fresh.take())
                    activity.cards += report.cards
                    activity.devices += report.pushed
                    activity.dead += report.dead
                    activity.retry += report.retry
                    delivered = self.deliver_outbox()
                    activity.delivered += delivered
                    busy = busy or delivered > 0
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
                    waiter.wait(min(poll, summary_every))
        finally:
            waiter.close()
            fresh.close()
            log.info("worker stopped after %d s", round(time.monotonic() - started))


class FreshLane:
    """The running worker's second lane, a thread: on each wake-up (a commit changed a card) it
    claims, pushes and records the cards changed in the last ``FRESH_WINDOW`` (``fresh_step``),
    beside the batch the worker has in flight, over APNs connections of its own (on the
    batch's, its streams were sent and answered after the batch's 1,000); so a member's
    purchase waits for neither a bulk batch nor its claim and record. The lease keeps every
    card in one lane (walletcards/leases.py). Not run when the database is one shared
    connection (a test's) or ``fresh_batch`` is 0."""

    def __init__(self, worker: Worker, poll: float) -> None:
        self._worker, self._poll = worker, poll
        self._done, self._lock, self._stop = StepReport(), threading.Lock(), threading.Event()
        self._thread: threading.Thread | None = None
        self._own: ApnsPusher | None = None
        if worker.fresh_batch > 0 and worker.database.concurrent:
            if isinstance(worker.clients.apns, ApnsPusher):  # not queued behind a batch's streams
                settings = worker.settings
                self._own = ApnsPusher(settings.apns_url, settings.apns_ca_file)
                worker.fresh_clients = dataclasses.replace(worker.clients, apns=self._own)
            waiter = Waiter(worker.database, CARDS_CHANNEL, local_wakeup)
            self._thread = threading.Thread(
                target=self._run, args=(waiter,), name="fresh-lane", daemon=True
            )
            self._thread.start()
            worker.fresh_lane = True

    def take(self) -> StepReport:
        """What the lane did since the last call."""
        with self._lock:
            done, self._done = self._done, StepReport()
        return done

    def close(self) -> None:
        """Stop after the step in progress (within ``poll`` when waiting)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._poll + 15)
            self._worker.fresh_lane = False
        if self._own is not None:
            self._own.close()
            self._worker.fresh_clients = self._worker.clients

    def _run(self, waiter: Waiter) -> None:
        try:
            while not self._stop.is_set():
                try:
                    report = self._worker.fresh_step()
                    with self._lock:
                        self._done.add(report)
                    if report.cards == 0:
                        waiter.wait(self._poll)
                except Exception:  # (a database restart breaks the LISTEN too: a new one)
                    log.exception("fresh push step failed; will try again")
                    waiter.close()
                    self._stop.wait(self._poll)
                    with contextlib.suppress(Exception):  # still down: the next turn again
                        waiter = Waiter(self._worker.database, CARDS_CHANNEL, local_wakeup)
        finally:
            waiter.close()
            self._worker.fresh_lane = False  # the batches take the latest cards again
