"""Members who join without a purchase: the sign-up page and enrolment at the till.

One customer, one card per programme: :func:`enrol` finds an existing member by email or
phone before creating anyone, and says which happened, so the sign-up page can answer the same
either way (it must not reveal who is a member) while the till answers 409 with the card found.
Consents are recorded as given (:mod:`walletcards.loyalty.member_models`). A join welcome bonus
(``[welcome] on = "join"``) is paid once per person, checked by email and by phone, and only once
the member is confirmed (:func:`confirm`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from walletcards.db import lock_names
from walletcards.loyalty import ledger, referrals
from walletcards.loyalty.cards import create_customer, issue_card, phone_key
from walletcards.loyalty.member_models import Consent, WelcomeClaim
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.rules import lot_dates
from walletcards.loyalty.unlocks import welcome_key

JOINED_VIA = ("order", "join", "till", "import", "api")
EMAIL_RE = re.compile(r"[^@\s\x00]{1,64}@[^@\s\x00.]+(\.[^@\s\x00.]+)+")
MAX_EMAIL = 320
MAX_NAME = 200


class InvalidContact(ValueError):
    """An email or phone number that cannot be a member's (the message says why)."""


def normalise_email(raw: str) -> str:
    """Lower-cased and trimmed; raises :class:`InvalidContact` unless it looks like an
    address (one "@", a dotted domain, no spaces or NUL, at most 320 characters)."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL_RE.fullmatch(email):
        raise InvalidContact("enter an email address like name@example.com")
    return email


def normalise_phone(raw: str, region: str | None) -> str:
    """The number in E.164 ("+447700900123"), parsed and validated with libphonenumber;
    ``region`` (ISO 3166, e.g. "GB") reads numbers typed without "+". Raises
    :class:`InvalidContact` for anything that is not a valid number."""
    if len(raw) > 40 or "\x00" in raw:
        raise InvalidContact("enter a phone number of at most 40 characters")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact("enter a phone number in international form, e.g. +44…") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("this is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Applicant:
    """Who is joining, already validated and normalised (email lower-cased, phone E.164)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: date | None = None
    locale: str | None = None
    marketing_consent: bool = False


@dataclass(frozen=True)
class Enrolment:
    customer: Customer
    card: Card
    created: bool  # False: an existing member was found and nothing about them changed


def find_member(
    session: Session, program: Program, email: str | None, phone: str | None
) -> Customer | None:
    """The programme's customer with this email, else with this phone (by its digits); erased
    customers are nobody. The oldest wins when several match."""
    digits = phone_key(phone)
    conditions = []
    if email:
        conditions.append(Customer.email == email)
    if digits:
        conditions.append(Customer.phone_key == digits)
    if not conditions:
        return None
    rows = session.execute(
        select(Customer)
        .where(Customer.program_id == program.id, Customer.erased_at.is_(None), or_(*conditions))
        .order_by(Customer.id)
    ).scalars()
    found = list(rows)
    by_email = [c for c in found if email and c.email == email]
    best = by_email or found
    return best[0] if best else None


def enrol(
    session: Session,
    program: Program,
    applicant: Applicant,
    now: datetime,
    *,
    via: str,
    confirmed: bool = True,
    staff: str | None = None,
    actor: str | None = None,
    terms_version: str | None = None,
    secret: str,
) -> Enrolment:
    """The applicant's card: an existing member's (found by email or phone, left unchanged:
    whoever types someone's email must not change their details or consent), else a new
    customer and card with the consents recorded. Concurrent sign-ups of one person serialise
    on locks named after their email and phone, so only one customer is made.

    ``confirmed=False`` holds a sign-up until :func:`confirm` (no join welcome before)."""
    if via not in JOINED_VIA:
        raise ValueError(f"unknown way of joining: {via!r}")
    digits = phone_key(applicant.phone)
    lock_names(
        session,
        sorted(
            f"customer:{program.id}:{kind}:{value}"
            for kind, value in (("email", applicant.email), ("phone", digits))
            if value
        ),
    )
    existing = find_member(session, program, applicant.email, applicant.phone)
    if existing is not None:
        return Enrolment(existing, issue_card(session, program, existing, now), created=False)
    customer = create_customer(
        session,
        program,
        now,
        email=applicant.email,
        phone=applicant.phone,
        name=applicant.name,
        birthday=applicant.birthday,
        locale=applicant.locale,
        profile_at=now,
        joined_via=via,
        joined_staff=staff,
        confirmed=confirmed,
    )
    source = "till" if via == "till" else "api" if via == "api" else "join"
    if terms_version is not None:
        record_consent(session, customer, "terms", True, now, source, terms_version, actor)
    if applicant.marketing_consent:
        set_marketing_consent(session, customer, True, now, source, terms_version, actor)
    card = issue_card(session, program, customer, now, new=True)
    if confirmed:
        pay_join_welcome(session, program, customer, card, now, secret)
    return Enrolment(customer, card, created=True)


def confirm(
    session: Session, program: Program, customer: Customer, now: datetime, secret: str
) -> bool:
    """Confirm a held sign-up (its email link was opened) and pay the join welcome; False when
    it was confirmed before (nothing changes). ``secret``: the service's key (welcome claims)."""
    if customer.confirmed_at is not None or customer.erased_at is not None:
        return False
    customer.confirmed_at = now
    card = session.execute(select(Card).where(Card.customer_id == customer.id)).scalar_one()
    pay_join_welcome(session, program, customer, card, now, secret)
    referrals.pay_friend(session, program, card, now)  # a referred sign-up held until now
    return True


def record_consent(
    session: Session,
    customer: Customer,
    kind: str,
    granted: bool,
    now: datetime,
    source: str,
    text_version: str | None = None,
    actor: str | None = None,
) -> Consent:
    consent = Consent(
        program_id=customer.program_id,
        customer_id=customer.id,
        kind=kind,
        granted=granted,
        text_version=text_version,
        source=source,
        actor=actor,
        created_at=now,
    )
    session.add(consent)
    return consent


def set_marketing_consent(
    session: Session,
    customer: Customer,
    granted: bool,
    now: datetime,
    source: str,
    text_version: str | None = None,
    actor: str | None = None,
) -> bool:
    """Give or withdraw marketing consent, recorded; False when it already was so (nothing
    recorded). Withdrawing stops campaign messages, never service notices."""
    if customer.marketing_consent == granted and customer.marketing_consent_at is not None:
        return False
    customer.marketing_consent = granted
    customer.marketing_consent_at = now
    record_consent(session, customer, "marketing", granted, now, source, text_version, actor)
    return True


def identity_hash(program: Program, kind: str, value: str, secret: str) -> str:
    """A one-way key for an email or phone digits within a programme (welcome claims): an
    HMAC under the service's secret key, so a stored claim cannot be turned back into a phone
    number by trying them all (a new secret key forgets who had a welcome)."""
    message = f"{program.id}\x00{kind}\x00{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def pay_join_welcome(
    session: Session,
    program: Program,
    customer: Customer,
    card: Card,
    now: datetime,
    secret: str,
) -> ledger.Posted | None:
    """``[welcome] on = "join"``: the welcome bonus, once per person. None when the programme
    pays on the first order, the card already had it, or its email or phone was paid before
    (another sign-up of the same person)."""
    rules = program_rules(program)
    welcome = rules.welcome
    if welcome is None or welcome.on != "join" or customer.confirmed_at is None:
        return None
    identities = [
        identity_hash(program, kind, value, secret)
        for kind, value in (("email", customer.email), ("phone", phone_key(customer.phone)))
        if value
    ]
    lock_names(session, sorted(f"welcome:{program.id}:{key}" for key in identities))
    locked = ledger.lock_card(session, card.id)
    key = welcome_key(locked)
    if ledger.find_entry_any(session, program.id, key) is not None:
        return None
    if (
        identities
        and session.execute(
            select(WelcomeClaim.identity).where(
                WelcomeClaim.program_id == program.id, WelcomeClaim.identity.in_(identities)
            )
        ).first()
    ):
        return None
    for identity in identities:
        session.add(
            WelcomeClaim(program_id=program.id, identity=identity, card_id=card.id, created_at=now)
        )
    available_at, expires_at = lot_dates(now, 0, welcome.expires or rules.expiry, rules.timezone)
    return ledger.credit(
        session,
        locked,
        kind="bonus",
        key=key,
        points=welcome.points,
        cause="welcome",
        now=now,
        available_at=available_at,
        expires_at=expires_at,
        max_points=rules.max_points_per_entry,
    )
