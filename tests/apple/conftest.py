"""Apple test kit: a throwaway certificate chain per session and a programme that uses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import MakeProgram
from tests.orders.conftest import ORDERS_SECRET
from tests.orders.conftest import app as app  # the same app fixture
from walletcards.apple.certificates import DevChain, make_dev_chain, write_dev_chain
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program

PTID = "pass.com.example.tests"
DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"  # a device library identifier
PUSH = "f" * 64  # a push token
TEAM = "TEAM123456"
KEY_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def chain_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("certs")


@pytest.fixture(scope="session")
def dev_chain(chain_dir: Path) -> DevChain:
    chain = make_dev_chain(PTID, TEAM, datetime.now(UTC) - timedelta(days=400), days=3650)
    write_dev_chain(chain, chain_dir, KEY_PASSWORD)
    return chain


@pytest.fixture
def apple_table(
    chain_dir: Path, dev_chain: DevChain, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setenv("TEST_PASS_KEY_PASSWORD", KEY_PASSWORD)
    return {
        "pass_type_identifier": PTID,
        "team_identifier": TEAM,
        "certificate": str(chain_dir / "pass.pem"),
        "private_key": str(chain_dir / "pass.key"),
        "private_key_password": "env:TEST_PASS_KEY_PASSWORD",
        "wwdr_certificate": str(chain_dir / "wwdr.pem"),
        "background_color": "#102030",
    }


@pytest.fixture
def program(make_program: MakeProgram, apple_table: dict[str, str]) -> Program:
    return make_program(apple=apple_table, webhooks={"orders_secret": ORDERS_SECRET})


@pytest.fixture
def client(app: Flask, program: Program) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def issued(client: FlaskClient, clock: FixedClock, database: Database) -> tuple[str, str, str]:
    """(public token, serial, authentication token) of a card issued through the webhook."""
    from tests.apple.helpers import paid_order, token_of

    token = token_of(paid_order(client, clock, "A-1"))
    with database.transaction() as session:
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
        return token, card.serial, card.auth_token
