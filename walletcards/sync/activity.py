"""What the sync worker tells its log: a start-up line, a summary every few minutes (pushes,
devices, failures, backlog, jobs), certificate warnings, and its shutdown.

Every summary also carries its numbers as ``extra={"summary": {...}}``, which the JSON log
format (``WALLETCARDS_LOG_FORMAT=json``) writes as a field for log shippers.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from walletcards.db import Database
from walletcards.logs import safe_url
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config
from walletcards.readiness import FAIL, OK, backlog, certificate_check
from walletcards.settings import Settings

log = logging.getLogger("walletcards.sync.worker")


def version() -> str:
    try:
        return metadata.version("walletcards")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


def _programs(database: Database) -> list[Program] | None:
    try:
        with database.transaction() as session:
            return list(session.execute(select(Program).order_by(Program.slug)).scalars())
    except SQLAlchemyError as exc:
        log.error("cannot read the programmes (%s); will try again", type(exc).__name__)
        return None


def announce(database: Database, settings: Settings | None, now: datetime) -> None:
    """The start-up line, held card emails, certificate problems."""
    programs = _programs(database)
    slugs = ", ".join(p.slug for p in programs or []) or "none"
    log.info(
        "walletcards %s worker starting: database %s, programmes: %s, APNs %s",
        version(),
        safe_url(database.url),
        slugs if programs is not None else "unknown",
        settings.apns_url if settings else "not configured",
    )
    if programs is None:
        return
    if settings is not None and settings.smtp_url is None:
        emailing = [p.slug for p in programs if _sends_email(p)]
        if emailing:
            log.warning(
                "card emails are held: WALLETCARDS_SMTP_URL is not set, so the card emails of "
                "%s wait in the outbox (`walletcards email list`) until it is",
                ", ".join(emailing),
            )
    _log_certificates(programs, now)


def _sends_email(program: Program) -> bool:
    table = program_config(program).email
    return table is not None and table.enabled


def check_certificates(database: Database, now: datetime) -> None:
    """A warning 30 days before a Pass Type ID certificate expires, an error once it cannot
    sign (at start-up, then daily)."""
    programs = _programs(database)
    if programs is not None:
        _log_certificates(programs, now)


def _log_certificates(programs: list[Program], now: datetime) -> None:
    for program in programs:
        check = certificate_check(program, now)
        if check is not None and check.status != OK:
            level = logging.ERROR if check.status == FAIL else logging.WARNING
            log.log(level, "programme %s: %s", program.slug, check.detail)


@dataclass
class Activity:
    """Counts since the last summary."""

    started: float = field(default_factory=time.monotonic)
    cards: int = 0
    devices: int = 0
    dead: int = 0
    retry: int = 0
    delivered: int = 0  # card emails and events
    errors: int = 0
    job_runs: int = 0
    jobs: Counter[str] = field(default_factory=Counter)

    def summarise(self, database: Database, now: datetime) -> None:
        try:
            with database.transaction() as session:
                found = backlog(session, now)
        except SQLAlchemyError as exc:
            log.error("worker summary: cannot read the backlog (%s)", type(exc).__name__)
            return
        numbers = {
            "seconds": round(time.monotonic() - self.started),
            "cards_pushed": self.cards - self.retry,
            "devices_pushed": self.devices,
            "dead_tokens_removed": self.dead,
            "cards_to_retry": self.retry,
            "outbox_delivered": self.delivered,
            "errors": self.errors,
            "job_runs": self.job_runs,
            "job_changes": dict(self.jobs),
            "backlog_cards": found.cards,
            "backlog_oldest_seconds": round(found.oldest.total_seconds()) if found.oldest else 0,
            "backlog_emails": found.emails,
            "backlog_events": found.events,
        }
        log.info(
            "worker summary (last %(seconds)s s): %(cards_pushed)s card(s) pushed to "
            "%(devices_pushed)s device(s), %(dead_tokens_removed)s dead token(s) removed, "
            "%(cards_to_retry)s card(s) failed and wait for a retry, %(outbox_delivered)s "
            "email(s)/event(s) delivered, %(errors)s error(s); jobs ran %(job_runs)s time(s), "
            "changes %(job_changes)s; backlog: %(backlog_cards)s card(s) (oldest changed "
            "%(backlog_oldest_seconds)s s ago), %(backlog_emails)s email(s), "
            "%(backlog_events)s event(s)",
            numbers,
            extra={"summary": numbers},
        )
