"""The worker's outbox steps: claim due rows (walletcards/leases.py: SKIP LOCKED on
PostgreSQL, a lease via ``next_attempt_at``), send outside any transaction through the
``Mailer`` / ``EventPoster`` (walletcards/clients.py), record the outcome.

Emails: at-least-once. A crash after the SMTP server accepted a message but before the
"sent" row committed resends it once the lease ends: **at most one duplicate**, carrying the
same Message-ID so mail clients can fold it (tested). Zero duplicates would need the SMTP
server to dedupe, which SMTP does not offer.

Events: at-least-once, exponential backoff (30 s doubling, at most 6 h) for up to 3 days; then
the event fails and its endpoint is paused (its later events wait, `walletcards events
resume`). Receivers dedupe by ``Walletcards-Event-Id`` and order a card's events by
``card.sequence``.
"""

from __future__ import annotations

import json
import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from walletcards.cardface import card_face
from walletcards.clients import EventPoster, Mailer
from walletcards.db import Database
from walletcards.join.links import CONFIRM_DAYS, confirm_token, confirm_url
from walletcards.leases import backoff, claim
from walletcards.links import card_links
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.messages.email import MessageMail, build_message, message_mail, withheld
from walletcards.orders.signatures import timestamped_header
from walletcards.outbound import mail
from walletcards.outbound.models import OutboundEvent, OutboxEmail, PausedEndpoint
from walletcards.outbound.sender import Refused, Unreachable
from walletcards.rights.unsubscribe import unsubscribe_url
from walletcards.settings import Settings

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
EMAIL_ATTEMPTS = 12
MAX_EMAIL_BACKOFF = timedelta(hours=6)
EVENT_LIFETIME = timedelta(days=3)
MAX_EVENT_BACKOFF = timedelta(hours=6)


def _claim_due(
    database: Database,
    model: type[OutboxEmail] | type[OutboundEvent],
    now: datetime,
    limit: int,
    read: Any,
) -> list[Any]:
    """Pending rows whose time has come, leased (``next_attempt_at``: ours until then; a crash
    hands them on after) and counted as an attempt."""
    return claim(
        database,
        model,
        [model.status == "pending", model.next_attempt_at <= now],
        {"next_attempt_at": now + LEASE, "attempts": model.attempts + 1},
        limit,
        read,
    )


def _rows(session: Session, model: Any, claimed: list[Row[Any]]) -> list[Any]:
    """The claimed rows as loaded after their lease (``attempts`` counts this one)."""
    query = select(model).where(model.id.in_([row.id for row in claimed])).order_by(model.id)
    return list(session.execute(query).scalars())


def deliver_emails(
    database: Database, settings: Settings, mailer: Mailer, now: datetime, limit: int = 50
) -> int:
    """Sends the card emails that are due. Without an SMTP relay nothing is claimed: the
    emails wait in the outbox (the worker's start-up line says so, sync/activity.py)."""
    if not mailer.configured:
        return 0

    def read(
        session: Session, claimed: list[Row[Any]]
    ) -> list[tuple[int, int, mail.CardMail | mail.ConfirmMail | MessageMail]]:
        batch: list[tuple[int, int, mail.CardMail | mail.ConfirmMail | MessageMail]] = []
        secret = settings.secret_key.reveal()
        for row in _rows(session, OutboxEmail, claimed):
            card = session.get(Card, row.card_id)
            program = session.get(Program, row.program_id)
            assert card is not None and program is not None and row.recipient
            if row.message_ref is not None:  # an owner's message (walletcards/messages/email.py)
                reason = withheld(session, row, card, program, now)
                if reason is not None:
                    row.status, row.last_error = "skipped", reason
                    continue
                composed = message_mail(session, settings.public_url, secret, row, card, program)
                batch.append((row.id, row.attempts, composed))
                continue
            config = program_config(program)
            email = config.email
            assert email is not None  # only a programme with [email] queues card emails
            face = card_face(session, program, card, now, settings.secret_key.reveal())
            links = card_links(settings.public_url, card.public_token, config.google is not None)
            if config.apple is None:
                links["apple"] = None
            # a sign-up not confirmed yet gets the confirmation link, not the card's
            customer = session.get(Customer, card.customer_id)
            message: mail.CardMail | mail.ConfirmMail = mail.CardMail(
                row.recipient,
                email.sender,
                email.reply_to,
                row.message_id,
                face,
                links,
                unsubscribe_url(
                    settings.public_url, settings.secret_key.reveal(), card.customer_id
                ),
                joined=customer is not None and customer.joined_via == "join",
            )
            if customer is not None and customer.confirmed_at is None:
                message = confirmation(settings, program, row, customer, face.locale)
            batch.append((row.id, row.attempts, message))
        return batch

    sent = 0
    for row_id, attempts, message in _claim_due(database, OutboxEmail, now, limit, read):
        error = None
        try:
            if isinstance(message, MessageMail):
                mailer.send(build_message(message))
            elif isinstance(message, mail.ConfirmMail):
                mailer.send(mail.build_confirmation(message))
            else:
                mailer.send(mail.build(message))
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        with database.transaction() as session:
            row = session.get(OutboxEmail, row_id)
            assert row is not None
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                sent += 1
            else:
                log.warning("card email %s not sent (attempt %s): %s", row_id, attempts, error)
                row.last_error = error
                row.status = "failed" if attempts >= EMAIL_ATTEMPTS else "pending"
                row.next_attempt_at = now + backoff(attempts, MAX_EMAIL_BACKOFF)
    return sent


def confirmation(
    settings: Settings, program: Program, row: OutboxEmail, customer: Customer, locale: str
) -> mail.ConfirmMail:
    """The confirmation email a held sign-up's card email becomes (walletcards/join/links.py)."""
    email = program_config(program).email
    assert email is not None and row.recipient
    secret = settings.secret_key.reveal()
    token = confirm_token(secret, program.id, customer.id, row.recipient)
    return mail.ConfirmMail(
        row.recipient,
        email.sender,
        email.reply_to,
        row.message_id,
        program_config(program).name_in(locale),
        locale,
        confirm_url(settings.public_url, program.slug, token),
        CONFIRM_DAYS,
    )


def event_body(event: OutboundEvent, settings: Settings) -> bytes:
    payload = dict(event.payload)
    card = payload.get("card")
    if isinstance(card, dict) and "token" in card:
        card = dict(card)
        links = card_links(settings.public_url, str(card.pop("token")), True)
        payload["card"] = {**card, "url": links["url"]}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def deliver_events(
    database: Database, settings: Settings, poster: EventPoster, now: datetime, limit: int = 100
) -> int:
    """Sends what is due. A destination that is not allowed (walletcards/outbound/sender.py:
    not https, or resolving to a loopback/private/... address outside development) is never
    contacted: the attempt fails with the reason as its status, like an unreachable one."""

    def read(
        session: Session, claimed: list[Row[Any]]
    ) -> list[tuple[int, str, str, str, str | None, bytes]]:
        batch = []
        for row in _rows(session, OutboundEvent, claimed):
            program = session.get(Program, row.program_id)
            assert program is not None
            endpoint = next(
                (e for e in program_config(program).events if e.url == row.endpoint_url), None
            )
            secret = endpoint.secret.reveal() if endpoint else None
            batch.append(
                (
                    row.id,
                    row.event_id,
                    row.type,
                    row.endpoint_url,
                    secret,
                    event_body(row, settings),
                )
            )
        return batch

    delivered = 0
    for row_id, event_id, kind, url, secret, body in _claim_due(
        database, OutboundEvent, now, limit, read
    ):
        status = "no secret configured for this endpoint"
        if secret:
            timestamp = int(now.timestamp())
            headers = {
                "Content-Type": "application/json",
                "Walletcards-Event-Id": event_id,
                "Walletcards-Event-Type": kind,
                "Walletcards-Signature": timestamped_header(secret, timestamp, body),
            }
            try:
                status = f"HTTP {poster.post(url, body, headers)}"
            except Refused as exc:
                status = f"refused: {exc}"
                log.warning("event %s not sent to %s: %s", event_id, url, status)
            except Unreachable as exc:
                status = str(exc)
        ok = status.startswith("HTTP 2")
        delivered += int(ok)
        _record_event(database, row_id, ok, status[:200], now)
    return delivered


def _record_event(database: Database, row_id: int, ok: bool, status: str, now: datetime) -> None:
    with database.transaction() as session:
        row = session.get(OutboundEvent, row_id)
        assert row is not None
        row.last_status = status
        if ok:
            row.status, row.delivered_at = "delivered", now
            return
        if now - row.created_at < EVENT_LIFETIME:
            row.next_attempt_at = now + backoff(row.attempts, MAX_EVENT_BACKOFF)
            return
        row.status = "failed"
        log.error("events to %s failed for 3 days: endpoint paused", row.endpoint_url)
        exists = session.execute(
            select(PausedEndpoint).where(
                PausedEndpoint.program_id == row.program_id,
                PausedEndpoint.endpoint_url == row.endpoint_url,
            )
        ).first()
        if exists is None:
            session.add(
                PausedEndpoint(
                    program_id=row.program_id,
                    endpoint_url=row.endpoint_url,
                    paused_at=now,
                    reason=f"failing for 3 days: {status}",
                )
            )
        session.execute(
            update(OutboundEvent)
            .where(
                OutboundEvent.program_id == row.program_id,
                OutboundEvent.endpoint_url == row.endpoint_url,
                OutboundEvent.status == "pending",
            )
            .values(status="paused")
        )
