"""Filling the outbox in the same transaction as the change (a session event, so no domain
function needs to know): a new card -> the card email and ``card.issued``; a new ledger entry
-> ``points.changed`` (and ``points.expired`` for expiries); a tier change -> ``tier.changed``.
``points.expiring`` is emitted by the warning job. Every event carries the card's version as
``sequence``: receivers order a card's events by it (retries can deliver out of order)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.outbound.models import OutboundEvent, OutboxEmail, PausedEndpoint


def program_config(program: Program) -> Any:
    """Imported late: this module is loaded by walletcards.loyalty.models, which
    walletcards.loyalty.programs itself imports (a top-level import would be circular)."""
    from walletcards.loyalty.programs import program_config as config

    return config(program)


def _card_ref(card: Card) -> dict[str, Any]:
    return {
        "member_number": card.member_number,
        "token": card.public_token,
        "sequence": card.version,
    }


def emit(
    session: Session,
    program: Program,
    card: Card | None,
    kind: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """One outbox row per endpoint of the programme that wants ``kind``."""
    wanted = [e for e in program_config(program).events if e.wants(kind)]
    if not wanted:
        return
    event_id = f"evt_{uuid.uuid4().hex}"
    paused = set(
        session.execute(
            select(PausedEndpoint.endpoint_url).where(PausedEndpoint.program_id == program.id)
        ).scalars()
    )
    payload = {
        "id": event_id,
        "type": kind,
        "created_at": now.isoformat(),
        "program": program.slug,
        **({"card": _card_ref(card)} if card else {}),
        **data,
    }
    for endpoint in wanted:
        session.add(
            OutboundEvent(
                event_id=event_id,
                program_id=program.id,
                card_id=card.id if card else None,
                endpoint_url=endpoint.url,
                type=kind,
                payload=payload,
                status="paused" if endpoint.url in paused else "pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def _now(obj: Any) -> datetime:
    value = getattr(obj, "created_at", None) or getattr(obj, "updated_at", None)
    return value if isinstance(value, datetime) else datetime.now(UTC)


@event.listens_for(Session, "after_flush")
def _fill_outbox(session: Session, _flush: Any) -> None:
    if session.info.get("quiet"):
        return
    with session.no_autoflush:
        for obj in list(session.new):
            if isinstance(obj, Card):
                _card_created(session, obj)
            elif isinstance(obj, LedgerEntry):
                _entry_posted(session, obj)
        for obj in list(session.dirty):
            if isinstance(obj, Card):
                history = inspect(obj).attrs.tier_code.history
                if history.has_changes() and history.deleted:
                    program = session.get(Program, obj.program_id)
                    assert program is not None
                    emit(
                        session,
                        program,
                        obj,
                        "tier.changed",
                        {"tier": {"from": history.deleted[0], "to": obj.tier_code}},
                        obj.updated_at,
                    )


def queue_card_email(
    session: Session, program: Program, card: Card, now: datetime
) -> OutboxEmail | None:
    """Queue the card email (a new card, or "resend card"); None when the programme's email is
    off. A customer without an email address is recorded as skipped."""
    email = program_config(program).email
    if email is None or not email.enabled:
        return None  # the shop sends the card link itself
    customer = session.get(Customer, card.customer_id)
    recipient = customer.email if customer else None
    row = OutboxEmail(
        program_id=program.id,
        card_id=card.id,
        recipient=recipient,
        message_id=f"<card-{uuid.uuid4().hex}@walletcards>",
        status="pending" if recipient else "skipped",
        attempts=0,
        next_attempt_at=now,
        last_error=None if recipient else "the customer has no email address",
        created_at=now,
    )
    session.add(row)
    return row


def _card_created(session: Session, card: Card) -> None:
    program = session.get(Program, card.program_id)
    assert program is not None
    now = _now(card)
    customer = session.get(Customer, card.customer_id)
    emit(
        session,
        program,
        card,
        "card.issued",
        {
            "customer": {
                "external_id": customer.external_id if customer else None,
                "email": customer.email if customer else None,
            }
        },
        now,
    )
    queue_card_email(session, program, card, now)


def _entry_posted(session: Session, entry: LedgerEntry) -> None:
    card = session.get(Card, entry.card_id)
    program = session.get(Program, entry.program_id)
    assert card is not None and program is not None
    data = {
        "entry": {"id": entry.id, "kind": entry.kind, "points": entry.points, "cause": entry.cause},
        "balance": {"available": card.available, "pending": card.pending, "debt": card.debt},
    }
    emit(session, program, card, "points.changed", data, entry.created_at)
    if entry.kind == "expiry":
        emit(session, program, card, "points.expired", {"points": entry.points}, entry.created_at)
