"""Staff made through the real CLI, their API tokens as request headers, and a card to scan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.passes import paid_order, release_holds
from walletcards.cli import main
from walletcards.clock import FixedClock
from walletcards.codes import card_code as make_code
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program


def make_staff(database: Database, email: str, role: str) -> str:
    """Adds staff via `walletcards staff add` (password on stdin); returns a new API token."""
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["staff", "add", "--program", "demo", "--role", role, email],
        input="a long enough password\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    token = runner.invoke(main, ["staff", "token", email], env=env)
    assert token.exit_code == 0, token.output
    return token.output.strip()


@pytest.fixture
def cashier(database: Database, program: Program) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_staff(database, 'Till1@Example.com', 'cashier')}"}


@pytest.fixture
def manager(database: Database, program: Program) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_staff(database, 'boss@example.com', 'manager')}"}


@pytest.fixture
def card_code(client: FlaskClient, clock: FixedClock, database: Database) -> str:
    """A customer with 550 points, released (15 days later), and their card's QR message."""
    paid_order(client, clock, "A-1", "50.00", customer="cust-1")
    clock.advance(timedelta(days=15))
    release_holds(database, clock.now())
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
    return make_code("test-secret-key-0123456789", "demo", card.member_number)


@pytest.fixture
def integration(database: Database, program: Program) -> dict[str, str]:
    """A shop's integration account (customers read, redemptions managed, nothing else)."""
    return {"Authorization": f"Bearer {make_staff(database, 'shop@example.com', 'integration')}"}
