"""The sync worker: brings every card's wallets up to date after any ledger change, delivers
the outbox (card emails, events) and runs the scheduled jobs; its applier threads apply the
webhook deliveries accepted into the inbox (walletcards/orders/applier.py).

:func:`run_worker` is the one way it runs (`walletcards worker`, and the thread of
`walletcards serve`); every outside system it talks to comes from its ``Clients``. A step
claims, pushes and records one batch of cards (walletcards/sync/cards.py) and, while its
pushes are in flight, the cards changed since (a member's purchase during a bulk change); the
outbox loops are walletcards/outbound/delivery.py; all three claim through walletcards/leases.py.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from walletcards import metrics
from walletcards.apple.apns import Outcome
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
# While a batch is in flight: a wake-up pushes the cards changed in the last FRESH_WINDOW (at
# most FRESH_BATCH) at once; the batch's end is looked for every LOOK_EVERY seconds.
FRESH_WINDOW = timedelta(seconds=30)
FRESH_BATCH = 50
LOOK_EVERY = 0.02


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

    def step(self, waiter: Waiter | None = None) -> StepReport:
        """Claim, push, record one batch; returns what it did (cards == 0: nothing due). With
        ``waiter`` (the running worker), fresh changes are pushed while the batch is in flight."""
        claims = claim_cards(self.database, self.settings, self.clock.now(), self.batch, self.lease)
        if not claims:
            return StepReport()
        fresh = StepReport()
        if waiter is None:
            outcomes = self._push(claims)
        else:
            outcomes = self._push_meanwhile(claims, waiter, fresh)
        report = record(self.database, claims, outcomes, self.clock.now())
        metrics.record_pushes(claims, outcomes)
        report.add(fresh)
        return report

    def fresh_step(self) -> StepReport:
        """Claim, push, record the cards changed in the last ``FRESH_WINDOW``, newest first."""
        now = self.clock.now()
        claims = claim_cards(
            self.database, self.settings, now, self.fresh_batch, self.lease, now - FRESH_WINDOW
        )
        if not claims:
            return StepReport()
        outcomes = self._push(claims)
        report = record(self.database, claims, outcomes, self.clock.now())
        metrics.record_pushes(claims, outcomes)
        return report

    def _push(self, claims: list[Claim]) -> dict[str, Outcome]:
        outcomes = push_apple(self.clients, claims)
        push_google(self.clients, self.settings, claims)
        return outcomes

    def _push_meanwhile(
        self, claims: list[Claim], waiter: Waiter, fresh: StepReport
    ) -> dict[str, Outcome]:
        """The batch's pushes on a thread of their own (network only, no database); meanwhile
        each wake-up (a commit changed a card) claims, pushes and records the fresh changes
        from this thread, so a member's purchase does not wait for a bulk batch in flight. The
        lease keeps the two lanes' cards apart; all database work stays on this thread."""
        result: list[dict[str, Outcome] | BaseException] = []
        done = threading.Event()

        def push() -> None:
            try:
                result.append(self._push(claims))
            except BaseException as exc:  # re-raised on the worker's thread
                result.append(exc)
            finally:
                done.set()

        threading.Thread(target=push, name="push-batch", daemon=True).start()
        while not done.is_set():
            if waiter.wait(LOOK_EVERY):
                fresh.add(self.fresh_step())
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

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
                    report = self.step(waiter)
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
                    waiter.wait(min(poll, summary_every))
        finally:
            waiter.close()
            log.info("worker stopped after %d s", round(time.monotonic() - started))
