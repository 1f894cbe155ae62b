"""Messages on Google Wallet: a scheduled job's step, outside transactions for the calls.

A message to everyone is one ``loyaltyClass/<id>/addMessage`` (the class's message shows on
every object of the class, notifying). Any other audience is a ``loyaltyObject/<id>/addMessage``
per card with a Google object, ``TEXT_AND_NOTIFY`` while the card is within Google's budget of
3 notifying updates per 24 hours (google/models.py GoogleNotification, shared with the
worker's updates), else ``TEXT`` (added silently). The client keeps to 20 requests/s per
issuer account. ``google_at`` on the recipient rows records what Google took; a failed call
is tried again at the next run. The message's ``expires_at`` is its display interval's end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.google.client import GoogleWalletError, PermissionDenied
from walletcards.google.models import GoogleNotification, GoogleObject
from walletcards.google.objects import class_id, localized
from walletcards.google.sync import BUDGET_WINDOW, NOTIFY_BUDGET
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config
from walletcards.messages.models import SENT, Message, MessageRecipient

log = logging.getLogger(__name__)
BATCH = 500  # object messages per message per run (25 s at 20 requests/s)
CLASS, OBJECT = "loyaltyClass", "loyaltyObject"


@dataclass
class Plan:
    message_id: int
    account: str
    kind: str
    body: dict[str, Any]
    targets: list[tuple[int, str, bool]] = field(default_factory=list)  # (row, id, notify)


def send_google(database: Database, clients: Clients, now: datetime) -> int:
    """Adds the sent messages to Google Wallet; returns the calls that succeeded."""
    with database.transaction() as session:
        due = _due(session, now)
    added = 0
    for message_id in due:
        with database.transaction() as session:  # one at a time: the budget counts the last
            plan = _plan(session, message_id, now)
        if plan is None:
            continue
        done: list[tuple[int, bool]] = []
        for row, resource, notify in plan.targets:
            body = {**plan.body, "messageType": "TEXT_AND_NOTIFY" if notify else "TEXT"}
            try:
                clients.google.add_message(plan.account, plan.kind, resource, body)
            except PermissionDenied as exc:
                log.error("Google Wallet message %s: %s", plan.message_id, exc)
                break
            except GoogleWalletError as exc:
                log.warning("Google Wallet message %s: %s %s", plan.message_id, exc.status, exc)
                continue
            done.append((row, notify))
        with database.transaction() as session:
            _record(session, plan, done, now)
        added += len(done)
    return added


def _due(session: Session, now: datetime) -> list[int]:
    """Sent, unexpired messages with a card whose Google object has not got them yet."""
    waiting = (
        select(MessageRecipient.message_id)
        .join(GoogleObject, GoogleObject.card_id == MessageRecipient.card_id)
        .where(MessageRecipient.status == SENT, MessageRecipient.google_at.is_(None))
    )
    return list(
        session.execute(
            select(Message.id)
            .where(
                Message.status == SENT,
                or_(Message.expires_at.is_(None), Message.expires_at > now),
                Message.id.in_(waiting),
            )
            .order_by(Message.id)
        ).scalars()
    )


def _plan(session: Session, message_id: int, now: datetime) -> Plan | None:
    message = session.get(Message, message_id)
    assert message is not None
    program = session.get(Program, message.program_id)
    assert program is not None
    config = program_config(program)
    if config.google is None:
        return None
    body = _body(message, config.locale, config.name_in(config.locale), now)
    plan = Plan(message.id, config.google.service_account_file, OBJECT, body)
    if message.audience.get("all"):
        plan.kind = CLASS
        plan.targets = [(0, class_id(config.google.issuer_id, program.slug), True)]
    else:
        plan.targets = _objects(session, message.id, now)
    return plan


def _objects(session: Session, message_id: int, now: datetime) -> list[tuple[int, str, bool]]:
    rows = session.execute(
        select(MessageRecipient.id, MessageRecipient.card_id, GoogleObject.object_id)
        .join(GoogleObject, GoogleObject.card_id == MessageRecipient.card_id)
        .where(
            MessageRecipient.message_id == message_id,
            MessageRecipient.status == SENT,
            MessageRecipient.google_at.is_(None),
        )
        .order_by(MessageRecipient.id)
        .limit(BATCH)
    ).all()
    counted = session.execute(
        select(GoogleNotification.card_id, func.count())
        .where(
            GoogleNotification.card_id.in_([card_id for _, card_id, _ in rows]),
            GoogleNotification.sent_at > now - BUDGET_WINDOW,
        )
        .group_by(GoogleNotification.card_id)
    ).all()
    spent: dict[int, int] = {card: int(n) for card, n in counted}
    return [(row, object_id, spent.get(card, 0) < NOTIFY_BUDGET) for row, card, object_id in rows]


def _body(message: Message, default: str, header: str, now: datetime) -> dict[str, Any]:
    texts: dict[str, str] = message.text
    body: dict[str, Any] = {
        "id": f"message-{message.id}",
        "header": header,
        "body": texts[default] if default in texts else next(iter(texts.values())),
    }
    if default in texts:
        body["localizedBody"] = localized(texts, default)
    if message.expires_at is not None:
        body["displayInterval"] = {
            "start": {"date": (message.sent_at or now).isoformat()},
            "end": {"date": message.expires_at.isoformat()},
        }
    return body


def _record(session: Session, plan: Plan, done: list[tuple[int, bool]], now: datetime) -> None:
    r = MessageRecipient
    if plan.kind == CLASS:
        if done:  # the class message reached every object of the class
            session.execute(
                update(r)
                .where(
                    r.message_id == plan.message_id,
                    r.status == SENT,
                    r.google_at.is_(None),
                    r.card_id.in_(select(GoogleObject.card_id)),
                )
                .values(google_at=now),
                execution_options={"synchronize_session": False},
            )
        return
    if done:
        session.execute(
            update(r).where(r.id.in_([row for row, _ in done])).values(google_at=now),
            execution_options={"synchronize_session": False},
        )
        rows = session.execute(select(r.card_id).where(r.id.in_([row for row, n in done if n])))
        session.add_all(GoogleNotification(card_id=card, sent_at=now) for card in rows.scalars())
