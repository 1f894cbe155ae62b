"""The demo programme (examples/demo.toml), variants of it, and cards in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.kit.clone import DEMO, ROOT
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.cards import create_customer, issue_card
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import apply_program

MakeProgram = Callable[..., Program]
MakeCard = Callable[..., Card]


@pytest.fixture(scope="session", autouse=True)
def _dev_certificates() -> None:
    """examples/demo.toml points at certs/dev/ (git-ignored): make the throwaway chain there
    once, as `walletcards certs dev` would, so applying the demo checks a real certificate."""
    from walletcards.apple.certificates import make_dev_chain, write_dev_chain

    target = ROOT / "certs" / "dev"
    if not (target / "pass.pem").exists():
        # valid from well before T0 (tests' frozen clock) until years after today
        start = datetime.now(UTC) - timedelta(days=400)
        chain = make_dev_chain("pass.com.example.demo", "ABCDE12345", start, days=3650)
        write_dev_chain(chain, target, None)


def demo_document(**overrides: Any) -> dict[str, Any]:
    """The demo programme as a dict; ``overrides`` replace whole top-level tables/keys
    (a value of None removes the key)."""
    document = dict(load_program_file(DEMO).document)
    for key, value in overrides.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document


@pytest.fixture
def make_program(database: Database, clock: FixedClock) -> MakeProgram:
    def make(**overrides: Any) -> Program:
        config = parse_program(demo_document(**overrides))
        with database.transaction() as session:
            program, _ = apply_program(session, config, clock.now())
        return program

    return make


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    """The demo programme as it ships; areas override this with the variant they test."""
    return make_program()


@pytest.fixture
def make_card(database: Database, clock: FixedClock) -> MakeCard:
    def make(program: Program, **customer: Any) -> Card:
        with database.transaction() as session:
            person = create_customer(session, program, clock.now(), **customer)
            return issue_card(session, program, person, clock.now())

    return make


@pytest.fixture
def card(program: Program, make_card: MakeCard) -> Card:
    return make_card(program, email="ann@example.com", name="Ann")


def reload_card(session: Session, card_id: int) -> Card:
    card = session.get(Card, card_id, populate_existing=True)
    assert card is not None
    return card
