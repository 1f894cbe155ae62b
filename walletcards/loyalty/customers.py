"""Find or create the customer a shop event names, and keep their details current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.db import lock_name
from walletcards.loyalty.cards import create_customer
from walletcards.loyalty.models import Customer, Program


@dataclass(frozen=True)
class CustomerDetails:
    external_id: str | None = None
    email: str | None = None  # lower-cased by the adapter
    phone: str | None = None
    name: str | None = None
    birthday: date | None = None
    locale: str | None = None


def find_or_create_customer(
    session: Session,
    program: Program,
    details: CustomerDetails,
    now: datetime,
    seen_at: datetime | None = None,
) -> Customer:
    """By external id, else by email; created when unknown. Concurrent deliveries for one new
    customer serialise on a lock named after their identity, so only one customer is made.

    Details are filled in when missing and overwritten only by news at least as recent as what
    we have (``seen_at``: when the shop produced the payload), so a late retry of an old
    payload never overwrites newer details."""
    names = sorted(
        f"customer:{program.id}:{kind}:{value}"
        for kind, value in (("ext", details.external_id), ("email", details.email))
        if value
    )
    for name in names:
        lock_name(session, name)
    customer = None
    if details.external_id:
        customer = session.execute(
            select(Customer).where(
                Customer.program_id == program.id, Customer.external_id == details.external_id
            )
        ).scalar_one_or_none()
    if customer is None and details.email:
        customer = session.execute(
            select(Customer)
            .where(Customer.program_id == program.id, Customer.email == details.email)
            .order_by(Customer.id)
            .limit(1)
        ).scalar_one_or_none()
        if customer is not None and customer.external_id and details.external_id:
            customer = None  # the same email under another shop account: a different customer
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
        )
        customer.profile_at = seen
        return customer
    newer = customer.profile_at is None or seen >= customer.profile_at
    for field in ("external_id", "email", "phone", "name", "birthday", "locale"):
        value = getattr(details, field)
        if value is not None and (newer or getattr(customer, field) is None):
            setattr(customer, field, value)
    if newer:
        customer.profile_at = seen
    return customer
