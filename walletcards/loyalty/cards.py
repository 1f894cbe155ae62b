"""Customers and their cards: one card per customer, with unguessable tokens and a member number."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.db import wake_workers
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.outbound import outbox


def random_member_number() -> str:
    """A random 10-digit number with a Luhn check digit (typing mistakes at the till show)."""
    body = str(secrets.randbelow(9 * 10**8) + 10**8)
    return body + _luhn_digit(body)


def free_member_numbers(session: Session, program_id: int, count: int) -> list[str]:
    """Up to ``count`` random member numbers no card of the programme has, checked in one
    statement (for a batch of new cards: :mod:`walletcards.loyalty.order_batch`)."""
    drawn = list(dict.fromkeys(random_member_number() for _ in range(count)))
    if not drawn:
        return []
    taken = set(
        session.execute(
            select(Card.member_number).where(
                Card.program_id == program_id, Card.member_number.in_(drawn)
            )
        ).scalars()
    )
    return [number for number in drawn if number not in taken]


def _member_number(session: Session, program_id: int) -> str:
    """A random member number unique in the programme."""
    while True:
        number = random_member_number()
        exists = session.execute(
            select(Card.id).where(Card.program_id == program_id, Card.member_number == number)
        ).first()
        if exists is None:
            return number


def _luhn_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and _luhn_digit(number[:-1]) == number[-1]


def phone_key(phone: str | None) -> str | None:
    """A phone number's digits, the form customers are matched by ("+1 (613) 555-0100" and
    "16135550100" are one phone); None for fewer than 6 digits (not a phone to match on)."""
    digits = "".join(char for char in phone or "" if char.isascii() and char.isdigit())
    return digits[:40] if len(digits) >= 6 else None


def create_customer(
    session: Session,
    program: Program,
    now: datetime,
    *,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    birthday: date | None = None,
    locale: str | None = None,
    profile_at: datetime | None = None,
    joined_via: str = "order",
    joined_staff: str | None = None,
    confirmed: bool = True,
) -> Customer:
    """A new customer; ``confirmed=False`` only for a sign-up whose email is not confirmed yet."""
    customer = Customer(
        program_id=program.id,
        external_id=external_id,
        email=email,
        phone=phone,
        phone_key=phone_key(phone),
        name=name,
        birthday=birthday,
        locale=locale,
        profile_at=profile_at,
        created_at=now,
        joined_via=joined_via,
        joined_staff=joined_staff,
        confirmed_at=now if confirmed else None,
        marketing_consent=False,
    )
    session.add(customer)
    session.flush()
    return customer


def card_values(
    program_id: int,
    customer_id: int,
    member_number: str,
    now: datetime,
    *,
    available: int = 0,
    version: int = 1,
) -> dict[str, Any]:
    """A new card's columns: fresh unguessable tokens (serial, URL token, Apple's
    authenticationToken, the QR signing secret), no orders, nothing pushed yet. Used by
    :func:`issue_card` and by bulk writers (the migration import)."""
    return {
        "program_id": program_id,
        "customer_id": customer_id,
        "serial": str(uuid.uuid4()),
        "public_token": secrets.token_urlsafe(24),
        "auth_token": secrets.token_urlsafe(24),
        "qr_secret": secrets.token_urlsafe(24),
        "member_number": member_number,
        "available": available,
        "pending": 0,
        "debt": 0,
        "paid_orders": 0,
        "version": version,
        "pushed_version": 0,
        "push_attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def issue_card(
    session: Session,
    program: Program,
    customer: Customer,
    now: datetime,
    *,
    new: bool = False,
    member_number: str | None = None,
) -> Card:
    """The customer's card (created once): serial, URL token, Apple auth token, the secret its
    QR code is signed with, and a member number. A new card is announced (``card.issued``,
    the card email) and wakes the sync workers for its first push.

    ``new=True``: the customer was created in this transaction, so there is no card to find.
    ``member_number``: one checked free in this transaction (:func:`free_member_numbers`)."""
    if not new:
        existing = session.execute(
            select(Card).where(Card.customer_id == customer.id)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    number = member_number or _member_number(session, program.id)
    card = Card(**card_values(program.id, customer.id, number, now))
    session.add(card)
    session.flush()
    outbox.card_issued(session, program, card, customer, now)
    wake_workers(session)
    return card


def card_by_member_number(session: Session, program: Program, member_number: str) -> Card | None:
    """The programme's card numbered ``member_number`` (None when there is none)."""
    return session.execute(
        select(Card).where(Card.program_id == program.id, Card.member_number == member_number)
    ).scalar_one_or_none()


def card_changed(session: Session, card: Card, now: datetime) -> None:
    """What the card shows changed: a new ``version`` (the durable signal that its wallets need
    an update, and the ``sequence`` of the events made after it) and the sync workers are woken
    when the transaction commits."""
    card.version += 1
    card.updated_at = now
    wake_workers(session)
