"""Till test kit: the Apple kit's app and programme, staff made through the real CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.apple.conftest import (  # noqa: F401  (fixtures)
    apple_table,
    chain_dir,
    client,
    dev_chain,
    program,
)
from tests.orders.conftest import app  # noqa: F401
from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.models import Program


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
