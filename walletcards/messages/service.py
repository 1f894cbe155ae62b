"""Messages: create, read with their delivery figures, cancel; the audience as a query.

Domain functions: they take the session and never commit (the API's views do)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from walletcards.errors import ApiError
from walletcards.loyalty import segments
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.messages import email
from walletcards.messages.inputs import MessageInput
from walletcards.messages.models import (
    CANCELLED,
    CAP,
    NO_CONSENT,
    NO_DEVICE,
    SCHEDULED,
    SENT,
    Message,
    MessageRecipient,
)

PAGE = 100  # messages per listing, newest first


def audience(program: Program, chosen: dict[str, Any], now: datetime) -> Select[tuple[int]]:
    """The card ids of the audience (erased customers never in it), before the rules."""
    if "segment" in chosen:
        try:
            return segments.members(program, str(chosen["segment"]), now)
        except segments.UnknownSegment:
            raise ApiError(
                422, "invalid_message", f"audience.segment: no segment {chosen['segment']!r}"
            ) from None
    if "all" in chosen:
        return segments.members(program, segments.ALL, now)
    query = (
        select(Card.id)
        .join(Customer, Customer.id == Card.customer_id)
        .where(Card.program_id == program.id, Customer.erased_at.is_(None))
    )
    if "tiers" in chosen:
        return query.where(Card.tier_code.in_(chosen["tiers"]))
    return query.where(Card.member_number.in_(chosen["members"]))


def create(session: Session, program: Program, given: MessageInput, now: datetime) -> Message:
    size = session.scalar(
        select(func.count()).select_from(audience(program, given.audience, now).subquery())
    )
    message = Message(
        program_id=program.id,
        kind=given.kind,
        text=given.text,
        link=given.link,
        audience=given.audience,
        channels=given.channels,
        status=SCHEDULED,
        audience_size=int(size or 0),
        send_at=given.send_at,
        expires_at=given.expires_at,
        last_card_id=0,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def find(session: Session, program: Program, message_id: str, *, lock: bool = False) -> Message:
    if not (message_id.isascii() and message_id.isdigit()) or len(message_id) > 18:  # "²": digit
        raise ApiError(404, "unknown_message", "no such message")
    query = select(Message).where(Message.id == int(message_id), Message.program_id == program.id)
    found = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if found is None:
        raise ApiError(404, "unknown_message", "no such message")
    return found


def cancel(session: Session, message: Message, now: datetime) -> None:
    if message.status == CANCELLED:
        return
    if message.status != SCHEDULED:
        raise ApiError(409, "already_sent", f"the message is {message.status}: too late to cancel")
    message.status, message.cancelled_at = CANCELLED, now


def listing(session: Session, program: Program) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Message)
        .where(Message.program_id == program.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(PAGE)
    ).scalars()
    return [summary(m) for m in rows]


def summary(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "status": message.status,
        "kind": message.kind,
        "audience": message.audience,
        "audience_size": message.audience_size,
        "text": message.text,
        "link": message.link,
        "channels": message.channels,
        "send_at": message.send_at.isoformat(),
        "expires_at": message.expires_at.isoformat() if message.expires_at else None,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }


def figures(session: Session, message: Message) -> dict[str, Any]:
    """The delivery figures: one aggregate over the message's recipient rows."""
    r = MessageRecipient

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(
            count(r.status == SENT),
            count(r.pushed_at.is_not(None)),
            count(r.fetched_at.is_not(None)),
            count(r.google_at.is_not(None)),
            count(r.skipped_reason == NO_CONSENT),
            count(r.skipped_reason == CAP),
            count(r.skipped_reason == NO_DEVICE),
            count(r.status == "failed"),
        ).where(r.message_id == message.id)
    ).one()
    cards, pushed, fetched, google, no_consent, cap, no_device, failed = (int(v) for v in row)
    return {
        "cards": cards,
        "pushed": pushed,
        "fetched_by_phone": fetched,
        "google_updated": google,
        "skipped": {"no_consent": no_consent, "cap": cap, "no_device": no_device},
        "failed": failed,
        **email.figures(session, message.id),
    }
