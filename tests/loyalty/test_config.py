from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.kit.clone import DEMO
from tests.kit.programs import demo_document, demo_file
from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfigError, load_program_file, parse_program
from walletcards.loyalty.models import Program
from walletcards.loyalty.periods import Span


def problems_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ProgramConfigError) as raised:
        parse_program(document)
    return [where for where, _ in raised.value.problems]


def test_demo_programme_is_valid_and_uses_every_rule() -> None:
    rules = load_program_file(DEMO).rules
    assert rules.welcome and rules.birthday and rules.every_nth and rules.tiers
    assert rules.hold_days == 14 and rules.expiry == Span(months=6) and rules.expiry_warn_days == 10
    assert rules.earning.exclude_brands and rules.earning.exclude_skus
    assert rules.earning.min_order_minor == 100


def test_lifetimes_are_days_or_calendar_months_and_the_minimum_order_a_decimal() -> None:
    rules = parse_program(
        demo_document(
            earning={"points_per_unit": "5", "min_order_amount": "5.50"},
            expiry={"days": 181},
            welcome={"points": 300, "expires_months": 1},
            birthday={"points": 200, "expires_days": 30},
        )
    ).rules
    assert rules.earning.min_order_minor == 550
    assert rules.expiry == Span(days=181)
    assert rules.welcome is not None and rules.welcome.expires == Span(months=1)
    assert rules.birthday is not None and rules.birthday.expires == Span(days=30)
    default = parse_program(demo_document(earning={"points_per_unit": "5"})).rules
    assert default.earning.min_order_minor == 1  # any eligible amount above zero counts


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": None}, "slug"),
        ({"currency": "usd"}, "currency"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"earning": {"points_per_unit": "-1"}}, "earning.points_per_unit"),
        ({"earning": {"points_per_unit": "ten"}}, "earning.points_per_unit"),
        ({"earning": {"points_per_unit": 0.1}}, "earning.points_per_unit"),
        ({"earning": {"points_per_unit": "5", "exclude_skus": "GIFT"}}, "earning.exclude_skus"),
        ({"earning": {"points_per_unt": "5"}}, "earning.points_per_unit"),
        ({"hold": {"days": -3}}, "hold.days"),
        ({"expiry": {"days": 10, "warn_days": 10}}, "expiry.warn_days"),
        ({"expiry": {"months": 1, "warn_days": 28}}, "expiry.warn_days"),
        ({"expiry": {"days": 180, "months": 6}}, "expiry.months"),
        (
            {"welcome": {"points": 300, "expires_days": 30, "expires_months": 1}},
            "welcome.expires_months",
        ),
        (
            {"birthday": {"points": 200, "expires_days": 9, "expires_months": 2}},
            "birthday.expires_months",
        ),
        ({"expiry": {"months": 0}}, "expiry.months"),
        (
            {"earning": {"points_per_unit": "5", "min_order_amount": "0"}},
            "earning.min_order_amount",
        ),
        (
            {"earning": {"points_per_unit": "5", "min_order_amount": "0.001"}},
            "earning.min_order_amount",
        ),
        (
            {"earning": {"points_per_unit": "5", "min_order_amount": 5.5}},
            "earning.min_order_amount",
        ),
        ({"welcome": {"points": 0}}, "welcome.points"),
        ({"welcome": {"points": 50000}}, "welcome.points"),
        ({"every_nth": {"orders": 1, "points": 10}}, "every_nth.orders"),
        ({"limits": {"max_points_per_entry": 0}}, "limits.max_points_per_entry"),
        (
            {
                "tiers": {
                    "qualify_by": "points",
                    "levels": [{"code": "a", "name": "A", "threshold": 1}],
                }
            },
            "tiers.qualify_by",
        ),
        ({"tiers": {"qualify_by": "paid_orders", "levels": []}}, "tiers.levels"),
        (
            {
                "tiers": {
                    "qualify_by": "paid_orders",
                    "levels": [
                        {"code": "a", "name": "A", "threshold": 2},
                        {"code": "b", "name": "B", "threshold": 2},
                    ],
                }
            },
            "tiers.levels[1].threshold",
        ),
        (
            {
                "apple": {
                    "pass_type_identifier": "com.example",
                    "team_identifier": "ABCDE12345",
                    "certificate": "c",
                    "private_key": "k",
                    "wwdr_certificate": "w",
                }
            },
            "apple.pass_type_identifier",
        ),
        ({"google": {"issuer_id": "abc", "service_account_file": "x.json"}}, "google.issuer_id"),
        (
            {
                "apple": {
                    "pass_type_identifier": "pass.x",
                    "team_identifier": "ABCDE12345",
                    "certificate": "c",
                    "private_key": "k",
                    "wwdr_certificate": "w",
                    "background_color": "navy",
                }
            },
            "apple.background_color",
        ),
        ({"webhooks": {"shopify_secret": "env:lower case"}}, "webhooks.shopify_secret"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_programme_file_is_rejected_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    document = demo_document(**change)
    if change == {"earning": {"points_per_unt": "5"}}:
        assert "earning.points_per_unt" in problems_of(document)
    assert field in problems_of(document)


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of(demo_document(currency="dollars", hold={"days": "two"}))
    assert {"currency", "hold.days"} <= set(found)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "programme.toml"
    path.write_text(text)
    return path


@pytest.fixture
def cli_env(database: Database) -> dict[str, str]:
    return {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}


def test_program_apply_is_idempotent(cli_env: dict[str, str], database: Database) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["program", "apply", str(demo_file())], env=cli_env)
    second = runner.invoke(main, ["program", "apply", str(demo_file())], env=cli_env)
    assert first.exit_code == 0, first.output
    assert "created" in first.output and "unchanged" in second.output
    with database.transaction() as session:
        assert session.execute(select(Program.slug)).scalars().all() == ["demo"]


def test_program_apply_updates_changed_file(
    cli_env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    runner = CliRunner()
    runner.invoke(main, ["program", "apply", str(demo_file())], env=cli_env)
    changed = write(
        tmp_path, demo_file().read_text().replace('name = "Demo Coffee"', 'name = "Demo Tea"')
    )
    result = runner.invoke(main, ["program", "apply", str(changed)], env=cli_env)
    assert "updated" in result.output
    with database.transaction() as session:
        assert session.execute(select(Program.name)).scalar_one() == "Demo Tea"


def test_invalid_file_changes_nothing_and_names_the_field(
    cli_env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    runner = CliRunner()
    runner.invoke(main, ["program", "apply", str(demo_file())], env=cli_env)
    bad = write(
        tmp_path,
        demo_file()
        .read_text()
        .replace('name = "Demo Coffee"', 'name = "Broken"')
        .replace("days = 14", "days = -1"),
    )
    result = runner.invoke(main, ["program", "apply", str(bad)], env=cli_env)
    assert result.exit_code == 1
    assert "hold.days" in result.output and "nothing changed" in result.output
    with database.transaction() as session:
        assert session.execute(select(Program.name)).scalar_one() == "Demo Coffee"


def test_changing_the_currency_of_a_programme_is_refused(
    cli_env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    runner = CliRunner()
    runner.invoke(main, ["program", "apply", str(demo_file())], env=cli_env)
    euro = write(tmp_path, demo_file().read_text().replace('currency = "USD"', 'currency = "EUR"'))
    result = runner.invoke(main, ["program", "apply", str(euro)], env=cli_env)
    assert result.exit_code == 1 and "currency" in result.output


def test_not_toml_is_rejected(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["program", "apply", str(write(tmp_path, "slug = ["))], env=cli_env
    )
    assert result.exit_code == 1 and "not valid TOML" in result.output


def test_a_programme_name_longer_than_its_column_or_with_nul_is_refused_with_its_field() -> None:
    document = load_program_file(DEMO).document
    for bad in ("x" * 201, "Demo\x00Coffee"):
        with pytest.raises(
            ProgramConfigError, match="name: must be a non-empty string of at most 200 characters"
        ):
            parse_program({**document, "name": bad})
    assert parse_program({**document, "name": "x" * 200}).name == "x" * 200
