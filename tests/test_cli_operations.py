"""`walletcards doctor` and `walletcards email list`, run as an operator runs them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.kit.programs import MakeCard
from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program


def env_for(database: Database, **extra: str) -> dict[str, str]:
    return {
        "WALLETCARDS_DATABASE_URL": database.url,
        "WALLETCARDS_PUBLIC_URL": "https://cards.example.com",
        "WALLETCARDS_SECRET_KEY": "test-secret-key-0123456789",
        "WALLETCARDS_SMTP_URL": "",
        **extra,
    }


def mark_pushed(database: Database) -> None:
    with database.transaction() as session:
        for card in session.query(Card):
            card.pushed_version = card.version


@pytest.mark.committing  # the doctor pings on a connection of its own
def test_doctor_passes_on_a_healthy_service(database: Database, program: Program) -> None:
    result = CliRunner().invoke(main, ["doctor"], env=env_for(database))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("walletcards ") and "database " in lines[0]
    for start in (
        "OK    database: reachable",
        "OK    migrations: at ",
        "OK    apple_certificate demo: valid until ",
        "OK    push_backlog: 0 card(s) waiting to be pushed",
        "OK    outbox: 0 card email(s) pending, 0 event(s) pending",
    ):
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert lines[-1] == "doctor: all checks passed"


@pytest.mark.committing
def test_doctor_flags_a_stalled_worker_and_held_card_emails(
    database: Database, program: Program, make_card: MakeCard
) -> None:
    make_card(program, email="ann@example.com")  # changed at T0, months ago: nobody pushed it
    result = CliRunner().invoke(main, ["doctor"], env=env_for(database))
    assert result.exit_code == 1
    assert "WARN  push_backlog: 1 card(s) waiting to be pushed, oldest changed " in result.stdout
    assert "is a `walletcards worker` running?" in result.stdout
    assert "card emails are held: WALLETCARDS_SMTP_URL is not set" in result.stdout
    assert "doctor: warn" in result.stderr

    mark_pushed(database)
    smtp = env_for(database, WALLETCARDS_SMTP_URL="smtp://127.0.0.1:2525")
    configured = CliRunner().invoke(main, ["doctor"], env=smtp)
    assert configured.exit_code == 0, configured.output
    assert "OK    outbox: 1 card email(s) pending" in configured.stdout


def test_doctor_fails_when_the_database_is_unreachable_and_hides_its_password(
    database: Database,
) -> None:
    url = "postgresql+psycopg://app:hunter2-secret@127.0.0.1:9/walletcards"
    result = CliRunner().invoke(
        main, ["doctor"], env=env_for(database, WALLETCARDS_DATABASE_URL=url)
    )
    assert result.exit_code == 1
    assert "FAIL  database: not reachable" in result.stdout
    assert "app:***@127.0.0.1:9/walletcards" in result.stdout
    assert "hunter2" not in result.output


def test_email_list_shows_held_card_emails_with_the_card_link(
    database: Database, program: Program, make_card: MakeCard
) -> None:
    card = make_card(program, email="ann@example.com")
    result = CliRunner().invoke(main, ["email", "list"], env=env_for(database))
    assert result.exit_code == 0, result.output
    assert "pending card emails are held" in result.stderr
    (line,) = result.stdout.splitlines()
    fields = line.split("\t")
    assert fields[2:7] == ["demo", card.member_number, "ann@example.com", "pending", "0"]
    assert fields[7] == f"https://cards.example.com/c/{card.public_token}"

    runner = CliRunner()
    same = runner.invoke(main, ["email", "list", "--program", "demo"], env=env_for(database))
    assert same.stdout == result.stdout
    assert (
        runner.invoke(main, ["email", "list", "--status", "sent"], env=env_for(database)).stdout
        == ""
    )
    unknown = runner.invoke(main, ["email", "list", "--program", "nope"], env=env_for(database))
    assert unknown.exit_code == 1 and "nope" in unknown.output
