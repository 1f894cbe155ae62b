"""Apple kit: a throwaway certificate chain per session and the programme that uses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.kit.programs import MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.apple.certificates import DevChain, make_dev_chain, write_dev_chain
from walletcards.loyalty.models import Program

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
    """The programme file's [apple] table for the session's chain (key password from env:)."""
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
def apple_program(make_program: MakeProgram, apple_table: dict[str, str]) -> Program:
    """The demo programme issuing Apple passes, fed by the signed-JSON webhook."""
    return make_program(apple=apple_table, webhooks={"orders_secret": ORDERS_SECRET})
