"""Find or create the customer a shop event names, and keep their details current."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from walletcards.db import lock_names
from walletcards.loyalty.cards import create_customer, phone_key
from walletcards.loyalty.members import InvalidContact, normalise_phone
from walletcards.loyalty.models import Customer, Program
from walletcards.loyalty.programs import program_config


@dataclass(frozen=True)
class CustomerDetails:
    external_id: str | None = None
    email: str | None = None  # lower-cased by the adapter
    phone: str | None = None
    name: str | None = None
    birthday: date | None = None
    locale: str | None = None

    @property
    def identifiable(self) -> bool:
        """Whether the details name someone to credit: an account id or an email."""
        return bool(self.external_id or self.email)


def find_or_create_customer(
    session: Session,
    program: Program,
    details: CustomerDetails,
    now: datetime,
    seen_at: datetime | None = None,
    locked: bool = False,
) -> tuple[Customer, bool]:
    """By external id, else by email, else by phone (its digits); created when unknown (the
    flag says so). An email or phone finds a customer only when nothing else about them says
    it is someone else (another shop account; for a phone, another email either). Concurrent
    deliveries for one new customer serialise on locks named after their identity, so only
    one customer is made.

    Details are filled in when missing and overwritten only by news at least as recent as what
    we have (``seen_at``: when the shop produced the payload), so a late retry of an old
    payload never overwrites newer details.

    A phone is kept in E.164 when libphonenumber reads it (:func:`shop_phone`), so a national
    "(201) 555-0123" from a shop finds the member who gave "+1 201 555 0123" at the till; the
    digits as sent still find customers stored before.

    ``locked``: the caller took :func:`identity_lock_names` in this transaction already (an
    applier's batch takes its customers' locks together)."""
    if not locked:
        lock_names(session, identity_lock_names(program, details))
    as_sent = phone_key(details.phone)
    details = replace(details, phone=shop_phone(program, details.phone))
    phones = {key for key in (phone_key(details.phone), as_sent) if key}
    matches: list[Customer] = []
    if details.external_id or details.email or phones:
        # only rows the rules below may pick (a phone shared by many customers with their own
        # account or email loads none of them)
        no_account = or_(Customer.external_id.is_(None), Customer.external_id == "")
        no_email = or_(Customer.email.is_(None), Customer.email == "")
        conditions: list[ColumnElement[bool]] = []
        if details.external_id:
            conditions.append(Customer.external_id == details.external_id)
        if details.email:
            email_is = Customer.email == details.email
            conditions.append(and_(email_is, no_account) if details.external_id else email_is)
        if phones:
            phone_is: list[ColumnElement[bool]] = [Customer.phone_key.in_(sorted(phones))]
            phone_is += [no_account] if details.external_id else []
            phone_is += [no_email] if details.email else []
            conditions.append(and_(*phone_is))
        matches = list(
            session.execute(
                select(Customer)
                .where(Customer.program_id == program.id, or_(*conditions))
                .order_by(Customer.id)
            ).scalars()
        )
    by_id = [c for c in matches if details.external_id and c.external_id == details.external_id]
    # Same email under another shop account is a different customer; a guest's email matches.
    by_email = [
        c
        for c in matches
        if c.email == details.email and not (c.external_id and details.external_id)
    ]
    by_phone = [
        c
        for c in matches
        if c.phone_key in phones
        and not (c.external_id and details.external_id)
        and not (c.email and details.email)
    ]
    found = by_id or by_email or by_phone
    customer = found[0] if found else None
    seen = seen_at or now
    if customer is None:
        customer = create_customer(
            session,
            program,
            now,
            external_id=details.external_id,
            email=details.email,
            phone=details.phone,
            name=details.name,
            birthday=details.birthday,
            locale=details.locale,
            profile_at=seen,
        )
        return customer, True
    newer = customer.profile_at is None or seen >= customer.profile_at
    for field in ("external_id", "email", "phone", "name", "birthday", "locale"):
        value = getattr(details, field)
        if value is not None and (newer or getattr(customer, field) is None):
            setattr(customer, field, value)
    customer.phone_key = phone_key(customer.phone)
    if newer:
        customer.profile_at = seen
    return customer, False


def identity_lock_names(program: Program, details: CustomerDetails) -> list[str]:
    """The lock names of the identity ``details`` (as the shop sent them) give, sorted: its
    account, email and phone (as :func:`find_or_create_customer` reads it, and as sent)."""
    phones = {phone_key(shop_phone(program, details.phone)), phone_key(details.phone)} - {None}
    identity = [("ext", details.external_id), ("email", details.email)]
    identity += [("phone", key) for key in phones]
    return sorted(f"customer:{program.id}:{kind}:{value}" for kind, value in identity if value)


def shop_phone(program: Program, phone: str | None) -> str | None:
    """A shop's phone number in E.164 when it is a valid one (typed without "+": read in the
    programme's ``[join] phone_region``, as at the till), else as the shop sent it."""
    if not phone:
        return phone
    join = program_config(program).join
    return _shop_phone(phone, join.phone_region if join is not None else None)


@lru_cache(maxsize=4096)
def _shop_phone(phone: str, region: str | None) -> str:
    """libphonenumber's reading, kept per process: an applier reads each order's phone twice
    (its identity's locks, then the look-up) and a returning customer's again."""
    try:
        return normalise_phone(phone, region)
    except InvalidContact:
        return phone
