"""What the outbox must send, written in the transaction that causes it (a rollback sends
nothing): the ledger, :func:`walletcards.loyalty.cards.issue_card` and the tier change call these
functions where the change happens. A new card -> the card email and ``card.issued``; a new
ledger entry -> ``points.changed`` (and ``points.expired`` for expiries); a tier change ->
``tier.changed``; ``points.expiring`` is emitted by the warning job. Every event carries the
card's version when it was made as ``sequence``: receivers order a card's events by it
(retries can deliver out of order)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty.config_tables import EventEndpoint
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.programs import program_config
from walletcards.outbound.models import OutboundEvent, OutboxEmail, PausedEndpoint
from walletcards.shops.tier_tags import queue_tier_tag


def _card_ref(card: Card) -> dict[str, Any]:
    return {
        "member_number": card.member_number,
        "token": card.public_token,
        "sequence": card.version,
    }


def _endpoints(program: Program, kind: str) -> list[EventEndpoint]:
    """The programme's event endpoints that want ``kind``."""
    return [e for e in program_config(program).events if e.wants(kind)]


def emit(
    session: Session,
    program: Program,
    card: Card | None,
    kind: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """One outbox row per endpoint of the programme that wants ``kind``."""
    wanted = _endpoints(program, kind)
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


def card_issued(
    session: Session, program: Program, card: Card, customer: Customer, now: datetime
) -> None:
    """A new card (flushed, so it has its id): ``card.issued`` and the card email. A sign-up
    held until its email is confirmed gets only the email (which the worker sends as the
    confirmation, outbound/delivery.py): its ``card.issued``, which carries the card's link to
    the shop, waits for the confirmation (:func:`announce_card`, walletcards/join/views.py)."""
    if customer.confirmed_at is not None:
        announce_card(session, program, card, customer, now)
    queue_card_email(session, program, card, now)


def announce_card(
    session: Session, program: Program, card: Card, customer: Customer, now: datetime
) -> None:
    emit(
        session,
        program,
        card,
        "card.issued",
        {"customer": {"external_id": customer.external_id, "email": customer.email}},
        now,
    )


def entry_posted(session: Session, program: Program, card: Card, entry: LedgerEntry) -> None:
    """A ledger entry was applied to ``card``: ``points.changed`` with the balance after it
    (and ``points.expired`` for an expiry). When an endpoint wants ``points.changed`` the entry
    is flushed first: the payload names its id."""
    if _endpoints(program, "points.changed"):
        if entry.id is None:
            session.flush()
        data = {
            "entry": {
                "id": entry.id,
                "kind": entry.kind,
                "points": entry.points,
                "cause": entry.cause,
            },
            "balance": {"available": card.available, "pending": card.pending, "debt": card.debt},
        }
        emit(session, program, card, "points.changed", data, entry.created_at)
    if entry.kind == "expiry":
        emit(session, program, card, "points.expired", {"points": entry.points}, entry.created_at)


def tier_changed(
    session: Session,
    program: Program,
    card: Card,
    before: str | None,
    now: datetime,
) -> None:
    """The card's tier moved from ``before`` to ``card.tier_code``: ``tier.changed``, and the
    customer's tier tag in the programme's shop (shops/tier_tags.py)."""
    queue_tier_tag(session, program, card, before, now)
    emit(
        session,
        program,
        card,
        "tier.changed",
        {"tier": {"from": before, "to": card.tier_code}},
        now,
    )
