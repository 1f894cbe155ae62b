"""Which card the till means, and how the till came to know it.

Only the card proves the customer is there: its signed QR code (checked against its HMAC tag,
exactly as issued, before any database look-up) or Google's rotating code (a TOTP, spent once
per redemption). A typed member number, email or phone finds the card too, but anyone who has
seen the card knows its number, so redeeming by one is for managers (``till.redeem``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.cashier.models import RotatingCodeUse
from walletcards.codes import member_number_of, totp_step
from walletcards.errors import ApiError
from walletcards.loyalty.cards import luhn_valid
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.staff.models import Staff

_DIGITS = re.compile(r"[0-9]+")
_ROTATING = re.compile(r"([0-9]+)-T([0-9]{8})")  # Google's rotating barcode: <number>-T<TOTP>
_PHONE = re.compile(r"\+?[0-9\s()-]{6,20}", re.ASCII)


@dataclass(frozen=True)
class CardMatch:
    card: Card
    by: Literal["qr", "rotating", "lookup"]  # lookup: a typed number, email or phone
    step: int | None = None  # the rotating code's TOTP time step


def find_card(
    session: Session, program: Program, code: str, secret_key: str, now: datetime
) -> CardMatch:
    """The card ``code`` (already bounded by ``inputs.code``) names; 422 for a forged code, 404
    when no card matches."""
    rotating = _ROTATING.fullmatch(code)
    number, dash, _ = code.partition("-")
    if rotating:
        card = _by(session, program, Card.member_number == rotating[1])
        step = totp_step(card.qr_secret, rotating[2], now) if card is not None else None
        if card is None or step is None:
            raise ApiError(422, "forged_code", "this rotating code is not genuine or has expired")
        return CardMatch(card, "rotating", step)
    found: Card | None = None
    if _DIGITS.fullmatch(number) and dash and not _PHONE.fullmatch(code):  # a signed QR code
        genuine = member_number_of(secret_key, program.slug, code)
        if genuine is None:
            raise ApiError(422, "forged_code", "this card code is not genuine (altered or forged)")
        found = _by(session, program, Card.member_number == genuine)
        if found is not None:
            return CardMatch(found, "qr")
    elif _DIGITS.fullmatch(code) and len(code) == 10 and luhn_valid(code):
        found = _by(session, program, Card.member_number == code)
    elif "@" in code:
        found = _by_customer(session, program, Customer.email == code.lower())
    elif _PHONE.fullmatch(code):
        found = _by_customer(session, program, Customer.phone == code)
    if found is None:
        raise ApiError(404, "unknown_card", "no card matches this code, number, phone or email")
    return CardMatch(found, "lookup")


def spend_rotating_code(session: Session, match: CardMatch, staff: Staff, now: datetime) -> None:
    """Records that ``match``'s rotating code redeemed; refuses it (409) when this step or a
    later one already did. The caller holds the card's row lock, so racing redemptions queue;
    the unique (card, step) key backs that up."""
    assert match.step is not None
    last = session.execute(
        select(func.max(RotatingCodeUse.step)).where(RotatingCodeUse.card_id == match.card.id)
    ).scalar_one()
    if last is not None and match.step <= last:
        raise ApiError(
            409,
            "code_used",
            "this rotating code has already been used to redeem; scan the card again "
            "when the phone shows a new code",
        )
    session.add(
        RotatingCodeUse(card_id=match.card.id, step=match.step, staff_id=staff.id, used_at=now)
    )
    session.flush()


def _by(session: Session, program: Program, condition: Any) -> Card | None:
    """The programme's card matching ``condition``; an erased customer's card is no card (its
    old QR code, still on a phone or a screenshot, earns and redeems nothing)."""
    return session.execute(
        select(Card)
        .join(Customer, Customer.id == Card.customer_id)
        .where(Card.program_id == program.id, Customer.erased_at.is_(None), condition)
    ).scalar_one_or_none()


def _by_customer(session: Session, program: Program, condition: Any) -> Card | None:
    return session.execute(
        select(Card)
        .join(Customer, Customer.id == Card.customer_id)
        .where(Card.program_id == program.id, condition)
        .order_by(Card.id)
        .limit(1)
    ).scalar_one_or_none()
