"""One batch of card pushes: claim, push (no transaction), record. The worker's step.

"Needs a push" is the durable gap ``version > pushed_version`` on the card row, so a worker
killed at any instant loses nothing.

1. (transaction, walletcards/leases.py) claim a batch of due cards, ``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, and lease them for a minute so no other worker pushes them meanwhile; read
   their devices and plan their Google objects. A tenth of the batch is the most recently
   changed cards, the rest the lowest ids: a member's purchase is not queued behind a bulk
   change of 100,000 cards (BENCHMARKS.md, Pushes). The running worker does better: its
   fresh lane claims the cards changed in the last seconds on each wake-up (``since``) and
   pushes them beside the batch in flight (walletcards/sync/worker.py), and its batches
   leave the latest changes to it (``latest``); the lease keeps the two lanes' cards apart;
2. (no transaction) push every device over ``Clients.apns``, PATCH Google objects over
   ``Clients.google``;
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
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from walletcards.apple.apns import CertificateAuth, Outcome, TokenAuth, short
from walletcards.apple.models import AppleRegistration
from walletcards.apple.passes import apple_table, pass_type_identifier
from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.google.client import GoogleWalletError, PermissionDenied
from walletcards.google.sync import (
    GoogleUpdate,
    google_table,
    plan_update,
    record_update,
    upsert_card,
)
from walletcards.leases import backoff, claim
from walletcards.loyalty.models import Card, Program
from walletcards.messages.delivery import mark_pushed
from walletcards.settings import Settings

log = logging.getLogger("walletcards.sync.worker")
FORBIDDEN_PARK = timedelta(hours=1)
MAX_BACKOFF = timedelta(seconds=300)
FIRST_BACKOFF = timedelta(seconds=1)
FRESH_SHARE = 10  # a tenth of each batch: the most recently changed cards (updated_at)


@dataclass
class Claim:
    card_id: int
    version: int
    program: Program
    devices: list[tuple[int, str]] = field(default_factory=list)  # (registration id, token)
    google: GoogleUpdate | None = None  # the object body to PATCH, for programmes with [google]
    google_outcome: Outcome = Outcome.DELIVERED


@dataclass
class StepReport:
    cards: int = 0
    pushed: int = 0
    dead: int = 0
    retry: int = 0

    def add(self, other: StepReport) -> None:
        self.cards += other.cards
        self.pushed += other.pushed
        self.dead += other.dead
        self.retry += other.retry


def apns_auth(program: Program) -> CertificateAuth | TokenAuth:
    """Token auth when the [apple] table names a .p8 key, else the Pass Type ID certificate."""
    table = apple_table(program)
    if table.apns_key_file and table.apns_key_id:  # the file names both or neither
        return TokenAuth(table.apns_key_file, table.apns_key_id, table.team_identifier)
    return CertificateAuth(table.certificate, table.private_key, table.password())


def claim_cards(
    database: Database,
    settings: Settings,
    now: datetime,
    batch: int,
    lease: timedelta,
    since: datetime | None = None,
    latest: bool = True,
) -> list[Claim]:
    """Due cards, leased until ``now + lease``, with their devices and Google bodies; with
    ``since``, only those changed since then, newest first (the worker's fresh lane); without
    ``latest``, no tenth of latest changes (the fresh lane takes those)."""

    def read(session: Session, rows: list[Row[Any]]) -> list[Claim]:
        ids = {row.program_id for row in rows}
        programs = {
            p.id: p for p in session.execute(select(Program).where(Program.id.in_(ids))).scalars()
        }
        claims = {row.id: Claim(row.id, row.version, programs[row.program_id]) for row in rows}
        for reg_id, card_id, token in session.execute(
            select(
                AppleRegistration.id, AppleRegistration.card_id, AppleRegistration.push_token
            ).where(AppleRegistration.card_id.in_(claims))
        ):
            claims[card_id].devices.append((reg_id, token))
        for claimed in claims.values():
            if google_table(claimed.program) is not None:
                card = session.get(Card, claimed.card_id)
                assert card is not None
                claimed.google = plan_update(session, claimed.program, card, settings, now)
        return list(claims.values())

    due = [
        Card.version > Card.pushed_version,
        or_(Card.push_lease_until.is_(None), Card.push_lease_until <= now),
    ]
    leased, columns = {"push_lease_until": now + lease}, (Card.version, Card.program_id)
    if since is not None:
        recent = [*due, Card.updated_at >= since]
        order = (Card.updated_at.desc(), Card.id)
        return claim(database, Card, recent, leased, batch, read, columns, order)
    fresh = []  # the latest changes first, so one commit is not queued behind a bulk change
    if latest and batch >= FRESH_SHARE:
        order = (Card.updated_at.desc(), Card.id)
        fresh = claim(database, Card, due, leased, batch // FRESH_SHARE, read, columns, order)
    return fresh + claim(database, Card, due, leased, batch - len(fresh), read, columns)


def push_apple(clients: Clients, claims: list[Claim]) -> dict[str, Outcome]:
    """Every device's outcome, one push call per programme."""
    by_program: dict[int, list[Claim]] = defaultdict(list)
    for claimed in claims:
        by_program[claimed.program.id].append(claimed)
    outcomes: dict[str, Outcome] = {}
    for group in by_program.values():
        program = group[0].program
        topic = pass_type_identifier(program)
        # in claim order: the freshest changes' pushes go out first
        tokens = list(dict.fromkeys(token for c in group for _, token in c.devices))
        if topic and tokens:
            try:
                outcomes.update(clients.apns.push(apns_auth(program), topic, tokens))
            except Exception:  # a broken [apple] setup must not stop other programmes
                log.exception("pushing programme %s failed", program.slug)
                outcomes.update(dict.fromkeys(tokens, Outcome.FORBIDDEN))
    return outcomes


def push_google(clients: Clients, settings: Settings, claims: list[Claim]) -> None:
    """PATCH each card's Google object; the outcome goes on its claim."""
    for claimed in claims:
        if claimed.google is None:
            continue
        program = claimed.program
        try:
            upsert_card(clients, program, settings, claimed.google.body, claimed.google.notify)
        except PermissionDenied as exc:
            log.error("Google Wallet, programme %s: %s", program.slug, exc)
            claimed.google_outcome = Outcome.FORBIDDEN
        except GoogleWalletError as exc:
            log.warning("Google Wallet %s %s for card %s", exc.status, exc.reason, claimed.card_id)
            claimed.google_outcome = Outcome.RETRY


def record(
    database: Database, claims: list[Claim], outcomes: dict[str, Outcome], now: datetime
) -> StepReport:
    """The batch's results in one transaction."""
    report = StepReport(cards=len(claims))
    with database.transaction() as session:
        done: list[dict[str, int]] = []
        pushed: list[dict[str, int]] = []  # an APNs push of this version was accepted
        for claimed in claims:
            results = [outcomes.get(token, Outcome.DELIVERED) for _, token in claimed.devices]
            if claimed.google is not None and claimed.google_outcome is Outcome.DELIVERED:
                record_update(session, claimed.google, now)
            for (reg_id, token), outcome in zip(claimed.devices, results, strict=True):
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
            if Outcome.DELIVERED in results:
                pushed.append({"b_card": claimed.card_id, "b_version": claimed.version})
            card = update(Card).where(Card.id == claimed.card_id)
            results.append(claimed.google_outcome)
            if Outcome.RETRY in results or Outcome.FORBIDDEN in results:
                report.retry += 1
                attempts = session.execute(
                    select(Card.push_attempts).where(Card.id == claimed.card_id)
                ).scalar_one()
                wait = (
                    FORBIDDEN_PARK
                    if Outcome.FORBIDDEN in results
                    else backoff(attempts, MAX_BACKOFF, FIRST_BACKOFF, jitter=0.5)
                )
                session.execute(
                    card.values(push_lease_until=now + wait, push_attempts=attempts + 1)
                )
            else:
                done.append({"b_card": claimed.card_id, "b_version": claimed.version})
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
        mark_pushed(session, pushed, now)  # messages' proof of delivery (messages/delivery.py)
    return report
