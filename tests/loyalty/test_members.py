"""Joining without a purchase: one card per person, consents recorded, one join welcome."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.kit.programs import MakeProgram
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.member_models import Consent, WelcomeClaim
from walletcards.loyalty.members import (
    Applicant,
    Enrolment,
    InvalidContact,
    confirm,
    enrol,
    normalise_email,
    normalise_phone,
)
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.verify import verify

JOIN_WELCOME = {"points": 300, "on": "join"}
SECRET = "test-secret-key-0123456789"


def join(
    database: Database, program: Program, clock: FixedClock, **fields: Any
) -> tuple[int, int, bool]:
    confirmed = fields.pop("confirmed", True)
    with database.transaction() as session:
        done: Enrolment = enrol(
            session,
            session.merge(program),
            Applicant(**fields),
            clock.now(),
            via="join",
            confirmed=confirmed,
            terms_version="2026-01",
            secret=SECRET,
        )
        return done.customer.id, done.card.id, done.created


def welcomes(database: Database, card_id: int) -> int:
    with database.transaction() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.card_id == card_id, LedgerEntry.cause == "welcome"
            )
        )
        return int(total or 0)


def test_phone_numbers_are_validated_and_stored_in_e164() -> None:
    assert normalise_phone("+44 7911 123456", None) == "+447911123456"
    assert normalise_phone("07911 123456", "GB") == "+447911123456"
    for bad in ("07911 123456", "+44 12", "call me", "+1" + "5" * 50, "+44\x007911123456"):
        with pytest.raises(InvalidContact):
            normalise_phone(bad, None)


def test_emails_are_lower_cased_and_checked() -> None:
    assert normalise_email("  Ann@Example.COM ") == "ann@example.com"
    for bad in ("ann", "ann@localhost", "a b@example.com", "a@@example.com", "x" * 330 + "@e.io"):
        with pytest.raises(InvalidContact):
            normalise_email(bad)


def test_joining_twice_finds_the_member_and_changes_nothing(
    database: Database, program: Program, clock: FixedClock
) -> None:
    first = join(database, program, clock, email="ann@example.com", name="Ann")
    again = join(
        database, program, clock, email="ann@example.com", name="Mallory", marketing_consent=True
    )
    by_phone = join(database, program, clock, phone="+447911123456", email=None)
    also = join(database, program, clock, email="bob@example.com", phone="+44 7911 123456")
    assert first[2] and not again[2] and again[:2] == first[:2]
    assert by_phone[2] and also[:2] == by_phone[:2] and not also[2]
    with database.transaction() as session:
        ann = session.get(Customer, first[0])
        assert ann is not None and ann.name == "Ann" and not ann.marketing_consent
        assert ann.joined_via == "join" and ann.confirmed_at is not None
        kinds = session.execute(
            select(Consent.kind, Consent.granted, Consent.text_version).where(
                Consent.customer_id == ann.id
            )
        ).all()
        assert [tuple(row) for row in kinds] == [("terms", True, "2026-01")]


def test_marketing_consent_is_recorded_when_given(
    database: Database, program: Program, clock: FixedClock
) -> None:
    customer_id, _, _ = join(
        database, program, clock, email="ann@example.com", marketing_consent=True
    )
    with database.transaction() as session:
        ann = session.get(Customer, customer_id)
        assert ann is not None and ann.marketing_consent and ann.marketing_consent_at
        granted = session.scalars(
            select(Consent.kind).where(Consent.customer_id == customer_id, Consent.granted)
        ).all()
        assert sorted(granted) == ["marketing", "terms"]


def test_a_join_welcome_is_paid_once_per_person_by_email_and_by_phone(
    database: Database, make_program: MakeProgram, clock: FixedClock
) -> None:
    program = make_program(welcome=JOIN_WELCOME)
    _, ann, _ = join(database, program, clock, email="ann@example.com", phone="+447911123456")
    # the same person again with another email but the same phone: their card, no welcome
    _, other, created = join(
        database, program, clock, email="ann.other@example.com", phone="+447911123456"
    )
    assert not created and other == ann
    assert welcomes(database, ann) == 300
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(WelcomeClaim)) == 2
        assert verify(session) == []


def test_a_held_sign_up_earns_its_welcome_when_confirmed_once(
    database: Database, make_program: MakeProgram, clock: FixedClock
) -> None:
    program = make_program(welcome=JOIN_WELCOME)
    customer_id, card_id, _ = join(
        database, program, clock, email="ann@example.com", confirmed=False
    )
    assert welcomes(database, card_id) == 0
    results = []
    for _ in range(2):
        with database.transaction() as session:
            customer = session.get(Customer, customer_id)
            assert customer is not None
            results.append(confirm(session, session.merge(program), customer, clock.now(), SECRET))
    assert results == [True, False]
    assert welcomes(database, card_id) == 300
    with database.transaction() as session:
        card = session.get(Card, card_id)
        assert card is not None and card.available == 300


def test_joining_pays_nothing_when_the_welcome_is_for_the_first_order(
    database: Database, program: Program, clock: FixedClock
) -> None:
    _, card_id, _ = join(database, program, clock, email="ann@example.com")
    assert welcomes(database, card_id) == 0
