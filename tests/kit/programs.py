"""The demo programme (examples/demo.toml), variants of it, and cards in it."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.kit.clone import DEMO
from walletcards.apple.certificates import make_dev_chain, write_dev_chain
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.cards import create_customer, issue_card
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import apply_program

MakeProgram = Callable[..., Program]
MakeCard = Callable[..., Card]


@cache
def demo_tree() -> Path:
    """A folder to run the demo from, laid out like the clone: examples/demo.toml and the
    certs/dev/ chain it names (git-ignored in the clone), made once per run as `walletcards
    certs dev` would, in a temporary folder removed at exit: the clone's certs/ stays as is."""
    # named tmp…, as tempfile names it: not "beside the clone" when that is in /tmp (clone.py)
    tree = Path(tempfile.mkdtemp(suffix="-walletcards-demo"))
    atexit.register(shutil.rmtree, tree, ignore_errors=True)
    # valid from well before T0 (tests' frozen clock) until years after today
    start = datetime.now(UTC) - timedelta(days=400)
    chain = make_dev_chain("pass.com.example.demo", "ABCDE12345", start, days=3650)
    write_dev_chain(chain, tree / "certs" / "dev", None)
    (tree / "examples").mkdir()
    text = DEMO.read_text()
    (tree / "examples" / "demo.toml").write_text(text)
    (tree / "demo.toml").write_text(text.replace('"certs/dev/', f'"{tree / "certs" / "dev"}/'))
    return tree


def demo_file() -> Path:
    """examples/demo.toml naming the session's chain by absolute paths (from any folder)."""
    return demo_tree() / "demo.toml"


def demo_document(**overrides: Any) -> dict[str, Any]:
    """The demo programme (its chain: the session's) as a dict; ``overrides`` replace whole
    top-level tables/keys (a value of None removes the key)."""
    document = dict(load_program_file(demo_file()).document)
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
