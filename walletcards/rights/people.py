"""Whose data: a customer named by member number, email or phone (the command line's EMAIL |
PHONE | MEMBER argument; the API names members by number only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty.cards import card_by_member_number, luhn_valid, phone_key
from walletcards.loyalty.models import Card, Customer, Program

MAX_SELECTOR = 320  # the longest email


class NoSuchCustomer(LookupError):
    """Nobody in the programme matches (the message says what was looked for)."""


def by_member_number(session: Session, program: Program, number: str) -> Customer | None:
    card = (
        card_by_member_number(session, program, number)
        if 0 < len(number) <= 20 and number.isascii() and number.isdigit()
        else None
    )
    return None if card is None else session.get(Customer, card.customer_id)


def find_customer(session: Session, program: Program, selector: str) -> Customer:
    """A member number (its check digit valid), else an email (with "@"), else a phone (by its
    digits). Raises :class:`NoSuchCustomer` when nobody matches, or when a phone matches
    several customers (the message lists their member numbers)."""
    wanted = selector.strip()
    if not wanted or len(wanted) > MAX_SELECTOR or "\x00" in wanted:
        raise NoSuchCustomer(f"give an email, phone or member number (at most {MAX_SELECTOR})")
    if luhn_valid(wanted):
        found = by_member_number(session, program, wanted)
        if found is not None:
            return found
    if "@" in wanted:
        condition = Customer.email == wanted.lower()
    elif phone_key(wanted) is not None:
        condition = Customer.phone_key == phone_key(wanted)
    else:
        raise NoSuchCustomer(f"no member {wanted!r} in {program.slug}")
    rows = session.execute(
        select(Customer, Card.member_number)
        .join(Card, Card.customer_id == Customer.id)
        .where(Customer.program_id == program.id, condition)
        .order_by(Customer.id)
    ).all()
    if not rows:
        raise NoSuchCustomer(f"nobody with {wanted!r} in {program.slug}")
    if len(rows) > 1:
        numbers = ", ".join(number for _, number in rows)
        raise NoSuchCustomer(f"several customers have {wanted!r}: give a member number ({numbers})")
    customer: Customer = rows[0][0]
    return customer
