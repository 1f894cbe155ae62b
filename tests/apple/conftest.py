"""Apple tests run against the programme that issues passes from the kit's chain."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.passes import paid_order, token_of
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program


@pytest.fixture
def program(apple_program: Program) -> Program:
    return apple_program


@pytest.fixture
def issued(client: FlaskClient, clock: FixedClock, database: Database) -> tuple[str, str, str]:
    """(public token, serial, authentication token) of a card issued through the webhook."""
    token = token_of(paid_order(client, clock, "A-1"))
    with database.transaction() as session:
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
        return token, card.serial, card.auth_token
