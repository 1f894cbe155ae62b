"""Sending a due message, set-based: the scheduled job's step (walletcards/sync/jobs.py).

Per batch (one transaction, the message row locked): the next ``batch`` card ids of the
audience (in card id order, after ``last_card_id``) become recipient rows with one
``INSERT … SELECT`` that applies the rules in SQL — a marketing message skips cards without
marketing consent (``[messages] require_consent``), over ``max_marketing_per_week`` (``cap``),
and every message skips cards with no wallet to tell (``no_device``) — then one ``UPDATE``
bumps the version of the cards it went to (never a skipped one's) and the sync workers are
woken: the existing push worker pushes them and the phones fetch the pass that now carries it.
A marketing message due inside the quiet hours (the programme's time zone) waits until they
end. On PostgreSQL a batch is one statement (the ``UPDATE`` a data-modifying CTE fed by the
``INSERT``'s ``RETURNING``, the batch's size and last id from the same statement); elsewhere
three (size and last id, ``INSERT``, ``UPDATE``). A million cards are 200 batches, never a
Python loop over cards.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, insert, literal, null, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE, Subquery

from walletcards.apple.models import AppleRegistration
from walletcards.db import Database, wake_workers
from walletcards.google.models import GoogleObject
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.messages.email import EMAIL, queue_emails
from walletcards.messages.models import (
    CAP,
    MARKETING,
    NO_CONSENT,
    NO_DEVICE,
    SCHEDULED,
    SENDING,
    SENT,
    SKIPPED,
    Message,
    MessageRecipient,
)
from walletcards.messages.service import audience

log = logging.getLogger(__name__)
BATCH = 5000
WEEK = timedelta(days=7)


def send_due(database: Database, now: datetime, batch: int = BATCH) -> int:
    """Sends (or goes on sending) every message due at ``now``; returns the recipient rows
    added. Each batch commits on its own: a process killed midway resumes at the next run."""
    with database.transaction() as session:
        due = (
            session.execute(
                select(Message.id)
                .where(Message.status.in_((SCHEDULED, SENDING)), Message.send_at <= now)
                .order_by(Message.send_at, Message.id)
            )
            .scalars()
            .all()
        )
    added = 0
    for message_id in due:
        more = True
        while more:
            with database.transaction() as session:
                count, more = send_batch(session, message_id, now, batch)
            added += count
    return added


def withdraw_expired(database: Database, now: datetime) -> int:
    """Expired messages leave the passes silently: the cards they went to get a new version
    (the back field goes; no field with a ``changeMessage`` changes, so no notice). Once per
    message, one ``UPDATE`` each; returns the cards bumped."""
    bumped = 0
    with database.transaction() as session:
        expired = (
            session.execute(
                select(Message)
                .where(
                    Message.status == SENT,
                    Message.expires_at <= now,
                    Message.withdrawn_at.is_(None),
                )
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        for message in expired:
            went = select(MessageRecipient.card_id).where(
                MessageRecipient.message_id == message.id, MessageRecipient.status == SENT
            )
            result = session.execute(
                update(Card)
                .where(Card.id.in_(went))
                .values(version=Card.version + 1, updated_at=now),
                execution_options={"synchronize_session": False},
            )
            bumped += int(getattr(result, "rowcount", 0) or 0)
            message.withdrawn_at = now
        if bumped:
            wake_workers(session)
    return bumped


def _reason(message: Message, program: Program, now: datetime) -> ColumnElement[Any]:
    rules = program_config(program).messages
    whens: list[tuple[ColumnElement[bool], Any]] = []
    if message.kind == MARKETING:
        if rules.require_consent:
            whens.append((Customer.marketing_consent.is_(False), literal(NO_CONSENT)))
        r, m = MessageRecipient, Message
        recent = (
            select(func.count())
            .select_from(r)
            .join(m, m.id == r.message_id)
            .where(
                r.card_id == Card.id,
                r.status == SENT,
                m.kind == MARKETING,
                m.started_at > now - WEEK,
                m.id != message.id,
            )
            .scalar_subquery()
        )
        whens.append((recent >= rules.max_marketing_per_week, literal(CAP)))
    has_wallet = or_(
        exists().where(AppleRegistration.card_id == Card.id),
        exists().where(GoogleObject.card_id == Card.id),
    )
    whens.append((~has_wallet, literal(NO_DEVICE)))
    return case(*whens, else_=null())


def _quiet(message: Message, program: Program, now: datetime) -> bool:
    config = program_config(program)
    local = now.astimezone(ZoneInfo(config.rules.timezone)).time()
    return message.kind == MARKETING and config.messages.quiet_at(local)


def send_batch(session: Session, message_id: int, now: datetime, batch: int) -> tuple[int, bool]:
    """One batch of a message's audience; returns (rows added, whether more may follow)."""
    message = session.execute(
        select(Message).where(Message.id == message_id).with_for_update()
    ).scalar_one()
    program = session.get(Program, message.program_id)
    assert program is not None
    if message.status not in (SCHEDULED, SENDING) or _quiet(message, program, now):
        return 0, False
    if message.status == SCHEDULED:
        message.status, message.started_at = SENDING, now
    after = message.last_card_id
    chosen = (
        audience(program, message.audience, now)
        .where(Card.id > after)
        .order_by(Card.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        found, last = _enqueue_in_one(session, message, program, chosen.cte("chosen"), now)
    else:
        found, last = _enqueue(session, message, program, chosen.subquery(), now)
    if found:
        wake_workers(session)
        if EMAIL in message.channels:
            queue_emails(session, message, program, after, last, now)
        message.last_card_id = last
    if found < batch:
        message.status, message.sent_at = SENT, now
        log.info("message %s sent (programme %s)", message.id, program.slug)
    return found, found >= batch


def _recipient_rows(
    message: Message, program: Program, chosen: Subquery | CTE, upto: Any, now: datetime
) -> Insert:
    """``INSERT … SELECT`` of the batch's recipient rows: each card's reason (a rule) or sent."""
    after = message.last_card_id
    # each card's reason once: OFFSET 0 keeps PostgreSQL from inlining the subquery, which
    # would repeat the rules' correlated subqueries in all three columns that read it
    scored = (
        select(Card.id, Card.version, _reason(message, program, now).label("reason"))
        .join(Customer, Customer.id == Card.customer_id)
        # the batch's id range as well: cards read by index, not scanned whole per batch
        .where(Card.id.in_(select(chosen.c[0])), Card.id > after, Card.id <= upto)
        .offset(0)
        .subquery()
    )
    went = scored.c.reason.is_(None)
    rows = select(
        literal(message.id),
        scored.c.id,
        case((went, literal(SENT)), else_=literal(SKIPPED)),
        case((went, scored.c.version + 1), else_=null()),
        scored.c.reason,
    )
    columns = ["message_id", "card_id", "status", "card_version", "skipped_reason"]
    return insert(MessageRecipient).from_select(columns, rows)


def _enqueue(
    session: Session, message: Message, program: Program, chosen: Subquery, now: datetime
) -> tuple[int, int]:
    """Portable: the batch's size and last card id, its recipient rows, then one ``UPDATE`` of
    the cards it went to (a skipped recipient's card keeps its version)."""
    found, last = session.execute(select(func.count(), func.max(chosen.c[0]))).one()
    if not found:
        return 0, message.last_card_id
    session.execute(_recipient_rows(message, program, chosen, int(last), now))
    recipients = select(MessageRecipient.card_id).where(
        MessageRecipient.message_id == message.id,
        MessageRecipient.status == SENT,
        and_(MessageRecipient.card_id > message.last_card_id, MessageRecipient.card_id <= last),
    )
    session.execute(
        update(Card)
        .where(Card.id.in_(recipients))
        .values(version=Card.version + 1, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(found), int(last)


def _enqueue_in_one(
    session: Session, message: Message, program: Program, chosen: CTE, now: datetime
) -> tuple[int, int]:
    """PostgreSQL, one statement: the audience's batch read once (a materialised CTE), the
    recipient rows inserted, and the cards they went to bumped from the ``INSERT``'s
    ``RETURNING`` (a data-modifying CTE: no second read of the recipients, no separate
    count); returns the batch's size and last card id. A wallet-only message's batch commits
    without waiting for the WAL flush (``synchronous_commit`` off, set by the same statement)."""
    upto = select(func.max(chosen.c[0])).scalar_subquery()
    inserted = (
        _recipient_rows(message, program, chosen, upto, now)
        .returning(MessageRecipient.card_id, MessageRecipient.status)
        .cte("inserted")
    )
    bumped = (
        update(Card)
        .where(Card.id == inserted.c.card_id, inserted.c.status == SENT)
        .values(version=Card.version + 1, updated_at=now)
        .returning(Card.id)
        .cte("bumped")
    )
    columns: list[Any] = [select(func.count()).select_from(chosen).scalar_subquery(), upto]
    if EMAIL not in message.channels:
        # the commit does not wait for the disk: a database crash may lose the last batches
        # whole (their cards, rows and progress together) and the next run sends them again;
        # not with email, whose outbox worker may already have sent a lost batch's emails
        columns.append(func.set_config("synchronous_commit", "off", True))
    found, last, *_ = session.execute(select(*columns).add_cte(bumped)).one()
    return int(found), int(last or message.last_card_id)
