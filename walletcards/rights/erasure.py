"""Erasing a customer's personal data (GDPR art. 17, 152-FZ art. 21), in one transaction.

What goes: the customer's name, email, phone (and its digits), birthday, language and when the
shop last told us them; the shop's customer id becomes a keyed one-way hash (``erased:<hmac>``)
so a later order from the same person starts a new customer instead of joining the old history;
their values are scrubbed from what other tables keep for other reasons (:mod:`.scrub`: the
stored webhook bodies of their orders and any naming them, outbound event payloads, card email
recipients, the till's stored answers, staff reasons on ledger entries, redemption references).

What stays, with no personal data left in it: the card (its number, balance and ledger, so
``ledger verify`` and the dashboard's totals do not move), orders (the shop's order ids, to
apply a late refund to the right ledger), consent records (now with an ``erasure`` withdrawal)
and the join welcome's keyed hashes (one welcome per person: a legitimate interest, README).

What happens next, outside the transaction: the card's version moves, so the sync worker
pushes the phones, which fetch the pass now ``voided`` (the Google object ``INACTIVE``); the
Apple device registrations are deleted by the scheduled job once ``DEVICE_GRACE`` has passed
(the phone must still be registered to learn that its pass changed). Unsent card emails and
undelivered events are dropped, and a ``customer.erased`` event (the card's reference and
when, nothing personal) tells the shop's CRM to erase its own copy. Erasing twice changes
nothing and answers the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from walletcards.apple.models import AppleRegistration
from walletcards.cashier.models import TillRequest
from walletcards.db import Database
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.entries import lock_card
from walletcards.loyalty.member_models import CONSENT_KINDS
from walletcards.loyalty.members import record_consent
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Order, Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.orders.models import InboxDelivery
from walletcards.outbound import outbox
from walletcards.outbound.models import OutboundEvent, OutboxEmail
from walletcards.rights.scrub import Person, scrub_body, scrub_json, scrub_text
from walletcards.staff.models import Staff

DEVICE_GRACE = timedelta(days=7)  # registrations kept this long after an erasure (module doc)
ERASED_PREFIX = "erased:"
UNSENT = ("pending", "paused")  # outbound events never delivered: dropped


@dataclass(frozen=True)
class Erasure:
    member_number: str
    erased_at: datetime
    erased_by: str
    created: bool  # False: erased before, nothing changed (the first erasure's who and when)

    def as_json(self) -> dict[str, str]:
        return {
            "member_number": self.member_number,
            "status": "erased",
            "erased_at": self.erased_at.isoformat(),
            "erased_by": self.erased_by,
        }


def erased_id(key: str, program: Program, external_id: str) -> str:
    """The one-way stand-in for a shop's customer id: HMAC-SHA256 under the service's secret
    key, so nobody without the key can test guesses against it."""
    message = f"{program.id}\x00{external_id}".encode()
    return ERASED_PREFIX + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def erase(
    session: Session,
    program: Program,
    customer_id: int,
    now: datetime,
    *,
    actor: str,
    key: str,
) -> Erasure:
    """Erase the customer (see the module doc); ``actor`` is recorded as who erased them,
    ``key`` (the service's secret key) keys the stand-in for their shop id. Serialised with
    every ledger write and with a concurrent erasure by the card's row lock."""
    card_id = session.execute(select(Card.id).where(Card.customer_id == customer_id)).scalar_one()
    card = lock_card(session, card_id)
    customer = session.execute(
        select(Customer).where(Customer.id == customer_id).execution_options(populate_existing=True)
    ).scalar_one()
    if customer.erased_at is not None:
        return Erasure(card.member_number, customer.erased_at, customer.erased_by or "", False)
    person = Person.of(customer)
    _scrub_outbox(session, person, card, now)
    _scrub_inbox(session, person, program, card)
    _scrub_till(session, person, program, card)
    _scrub_ledger(session, person, card)
    if customer.external_id:
        customer.external_id = erased_id(key, program, customer.external_id)
    customer.name = customer.email = customer.phone = customer.phone_key = None
    customer.birthday = None
    customer.locale = None
    customer.profile_at = None
    customer.erased_at, customer.erased_by = now, actor[:200]
    customer.marketing_consent, customer.marketing_consent_at = False, now
    for kind in CONSENT_KINDS:  # the marker: every consent ends with the erasure
        record_consent(session, customer, kind, False, now, "erasure", actor=actor[:200])
    card_changed(session, card, now)  # the wallets get the voided pass / INACTIVE object
    # the CRM holds what card.issued told it: it is told to erase its copy (card ref only)
    outbox.emit(session, program, card, "customer.erased", {"erased_at": now.isoformat()}, now)
    return Erasure(card.member_number, now, customer.erased_by, True)


def _scrub_outbox(session: Session, person: Person, card: Card, now: datetime) -> None:
    for email in session.execute(
        select(OutboxEmail).where(OutboxEmail.card_id == card.id)
    ).scalars():
        email.recipient = None
        if email.status == "pending":
            email.status, email.last_error = "skipped", "the customer's data was erased"
    session.execute(
        delete(OutboundEvent).where(
            OutboundEvent.card_id == card.id, OutboundEvent.status.in_(UNSENT)
        )
    )
    for event in session.execute(
        select(OutboundEvent).where(OutboundEvent.card_id == card.id)
    ).scalars():
        event.payload = scrub_json(person, event.payload, personal_keys=True)


def _scrub_inbox(session: Session, person: Person, program: Program, card: Card) -> None:
    """The stored deliveries of their orders (every personal subtree), and any other naming
    their email, phone or shop id (those values only)."""
    order_ids = select(Order.external_id).where(Order.card_id == card.id)
    rows = session.execute(
        select(InboxDelivery).where(
            InboxDelivery.program_id == program.id,
            or_(InboxDelivery.order_ref.in_(order_ids), *_mentions(InboxDelivery.body, person)),
        )
    ).scalars()
    orders = set(session.execute(order_ids).scalars())
    for row in rows:
        row.body = scrub_body(person, row.body, personal_keys=row.order_ref in orders)
        if row.detail:
            row.detail = scrub_text(person, row.detail)
        if row.response is not None:
            row.response = scrub_json(person, row.response)


def _scrub_till(session: Session, person: Person, program: Program, card: Card) -> None:
    """The till's and the owner's API's stored answers about the card (they carry the name)."""
    staff = select(Staff.id).where(Staff.program_id == program.id)
    text = cast(TillRequest.response, String)
    for row in session.execute(
        select(TillRequest).where(
            TillRequest.staff_id.in_(staff),
            or_(text.contains(card.member_number, autoescape=True), *_mentions(text, person)),
        )
    ).scalars():
        row.response = scrub_json(person, row.response)


def _mentions(
    column: ColumnElement[str] | InstrumentedAttribute[str], person: Person
) -> list[ColumnElement[bool]]:
    """SQL conditions: ``column`` holds one of the person's values, in any case, as text or
    as a JSON string escapes it. (A scan of the programme's rows: erasures are rare.)"""
    found = []
    for value in person.values:
        for spelling in {value.lower(), json.dumps(value.lower())[1:-1]}:
            found.append(func.lower(column).contains(spelling, autoescape=True))
    return found


def _scrub_ledger(session: Session, person: Person, card: Card) -> None:
    """Staff reasons (memos, causes) and redemption references that name them (the amounts,
    keys and kinds stay as they are)."""
    for entry in session.execute(
        select(LedgerEntry).where(LedgerEntry.card_id == card.id)
    ).scalars():
        if person.mentioned_in(entry.memo):
            entry.memo = scrub_text(person, entry.memo or "")
        if person.mentioned_in(entry.cause):
            entry.cause = scrub_text(person, entry.cause)
    for redemption in session.execute(
        select(Redemption).where(Redemption.card_id == card.id, Redemption.reference.is_not(None))
    ).scalars():
        if person.mentioned_in(redemption.reference):
            redemption.reference = scrub_text(person, redemption.reference or "")


def forget_devices(database: Database, now: datetime) -> int:
    """The scheduled job: Apple device registrations of cards erased more than
    ``DEVICE_GRACE`` ago are deleted (their phones have had the voided pass pushed)."""
    with database.transaction() as session:
        erased = (
            select(Card.id)
            .join(Customer, Customer.id == Card.customer_id)
            .where(Customer.erased_at.is_not(None), Customer.erased_at <= now - DEVICE_GRACE)
        )
        result = session.execute(
            delete(AppleRegistration).where(AppleRegistration.card_id.in_(erased))
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
