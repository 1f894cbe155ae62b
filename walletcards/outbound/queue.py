"""The outbox as the operator sees it: the latest rows, and putting events back in the queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, Program
from walletcards.outbound.models import OutboundEvent, OutboxEmail, PausedEndpoint

EMAIL_STATUSES = ("pending", "sent", "skipped", "failed")


def recent_events(session: Session, status: str | None, limit: int) -> list[OutboundEvent]:
    """The latest events, newest first (only ``status`` ones when given)."""
    query = select(OutboundEvent).order_by(OutboundEvent.id.desc()).limit(limit)
    if status:
        query = query.where(OutboundEvent.status == status)
    return list(session.execute(query).scalars())


def requeue_event(session: Session, row_id: int, now: datetime) -> bool:
    """Send an event again (same event id: receivers dedupe); False when there is no such row."""
    row = session.get(OutboundEvent, row_id)
    if row is None:
        return False
    row.status, row.next_attempt_at = "pending", now
    return True


def resume_endpoint(session: Session, program: Program, url: str, now: datetime) -> None:
    """Un-pause ``url`` for ``program``: its waiting events go out again."""
    session.execute(
        delete(PausedEndpoint).where(
            PausedEndpoint.program_id == program.id, PausedEndpoint.endpoint_url == url
        )
    )
    session.execute(
        update(OutboundEvent)
        .where(
            OutboundEvent.program_id == program.id,
            OutboundEvent.endpoint_url == url,
            OutboundEvent.status == "paused",
        )
        .values(status="pending", next_attempt_at=now)
    )


def recent_emails(
    session: Session, program: Program | None, status: str | None, limit: int
) -> list[Any]:
    """The latest card emails, newest first, as (email, member number, card token, slug) rows."""
    query = (
        select(OutboxEmail, Card.member_number, Card.public_token, Program.slug)
        .join(Card, Card.id == OutboxEmail.card_id)
        .join(Program, Program.id == OutboxEmail.program_id)
        .order_by(OutboxEmail.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(OutboxEmail.status == status)
    if program is not None:
        query = query.where(OutboxEmail.program_id == program.id)
    return list(session.execute(query).all())
