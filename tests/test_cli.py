"""The command line as an operator uses it: migrate, apply the demo, verify the ledger."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.kit.programs import demo_file
from walletcards.cli import main
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.cards import create_customer, issue_card
from walletcards.loyalty.models import Card
from walletcards.loyalty.programs import get_program
from walletcards.loyalty.rules import OrderFacts, OrderLine


def test_db_upgrade_creates_a_fresh_sqlite_database(tmp_path: Path) -> None:
    env = {"WALLETCARDS_DEV": "1", "WALLETCARDS_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "walletcards.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "walletcards.db").exists()


def test_ledger_verify_is_clean_on_demo_data_and_flags_tampering(
    database: Database, clock: FixedClock
) -> None:
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    runner = CliRunner()
    assert runner.invoke(main, ["program", "apply", str(demo_file())], env=env).exit_code == 0
    with database.transaction() as session:
        program = get_program(session, "demo")
        cards = [
            issue_card(
                session,
                program,
                create_customer(session, program, clock.now(), email=f"c{i}@example.com"),
                clock.now(),
            )
            for i in range(3)
        ]
    for number in range(9):
        with database.transaction() as session:
            facts = OrderFacts(
                "orders", str(number), "USD", clock.now(), (OrderLine(1000 * (number + 1)),)
            )
            awards.award_paid_order(session, program, cards[number % 3].id, facts, clock.now())
    with database.transaction() as session:
        awards.reverse_order(
            session,
            program,
            source="orders",
            external_id="4",
            key="r",
            refunded_minor=2000,
            refunded_eligible_minor=2000,
            cancel=False,
            now=clock.now(),
        )
        ledger.settle_time(
            session, ledger.lock_card(session, cards[0].id), clock.now().replace(year=2027)
        )

    clean = runner.invoke(main, ["ledger", "verify", "--program", "demo"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "no mismatches" in clean.output

    with database.transaction() as session:
        tampered = session.get(Card, cards[1].id)
        assert tampered is not None
        tampered.pending += 7
    dirty = runner.invoke(main, ["ledger", "verify"], env=env)
    assert dirty.exit_code == 1
    assert f"card {cards[1].id}: entries" in dirty.output


def test_ledger_verify_unknown_programme_is_a_clear_error(database: Database) -> None:
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    result = CliRunner().invoke(main, ["ledger", "verify", "--program", "nope"], env=env)
    assert result.exit_code == 1 and "no programme 'nope'" in result.output
