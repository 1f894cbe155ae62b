"""GET /readyz: database, schema revision and every programme's Apple certificates; 503 only
when something is broken now, a warning 30 days before a certificate expires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.kit.apple import KEY_PASSWORD, PTID, TEAM
from tests.kit.database import T0
from tests.kit.programs import MakeProgram
from walletcards import create_app, migrate
from walletcards.apple.certificates import make_dev_chain, write_dev_chain
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.settings import Secret, Settings

SECRET_KEY = "test-secret-key-0123456789"
# readiness reads on connections of its own: they must see the programmes (and on SQLite
# cannot wait behind an open test transaction)
pytestmark = pytest.mark.committing


def apple_table_until(
    directory: Path, until: datetime, password: str | None = None
) -> dict[str, str]:
    """A throwaway Pass Type ID chain whose certificates expire at ``until``."""
    chain = make_dev_chain(PTID, TEAM, until - timedelta(days=365), days=365)
    write_dev_chain(chain, directory, password)
    return {
        "pass_type_identifier": PTID,
        "team_identifier": TEAM,
        "certificate": str(directory / "pass.pem"),
        "private_key": str(directory / "pass.key"),
        "wwdr_certificate": str(directory / "wwdr.pem"),
    }


def make_app(url: str, clock: FixedClock, tmp_path: Path) -> Flask:
    settings = Settings(
        database_url=url,
        public_url="https://cards.example.com",
        secret_key=Secret(SECRET_KEY),
        instance_path=tmp_path,
    )
    return create_app(settings, build_clients(settings, clock))


@pytest.fixture
def app(database: Database, clock: FixedClock, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(database.url, clock, tmp_path)
    yield app
    app.extensions["walletcards.db"].dispose()


def readyz(app: Flask) -> tuple[int, dict[str, Any], str]:
    response = app.test_client().get("/readyz")
    assert response.json is not None and response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.json, response.get_data(as_text=True)


def by_name(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in body["checks"]}


def test_ready_when_the_database_answers_the_schema_is_current_and_certificates_are_valid(
    app: Flask, make_program: MakeProgram
) -> None:
    make_program()  # the demo programme: certs/dev/, valid for years
    status, body, text = readyz(app)
    assert status == 200 and body["status"] == "ok"
    checks = by_name(body)
    assert [checks[n]["status"] for n in ("database", "migrations", "apple_certificate")] == [
        "ok"
    ] * 3
    assert checks["apple_certificate"]["program"] == "demo"
    assert checks["apple_certificate"]["detail"].startswith("valid until ")
    assert SECRET_KEY not in text and "dev-only" not in text


def test_not_ready_while_the_database_is_unreachable(clock: FixedClock, tmp_path: Path) -> None:
    app = make_app("postgresql+psycopg://walletcards:hunter2@127.0.0.1:9/none", clock, tmp_path)
    status, body, text = readyz(app)
    app.extensions["walletcards.db"].dispose()
    assert status == 503 and body["status"] == "fail"
    assert body["error"]["code"] == "not_ready"
    assert by_name(body)["database"] == {
        "name": "database",
        "status": "fail",
        "detail": "not reachable",
    }
    assert "hunter2" not in text and "127.0.0.1" not in text


@pytest.mark.once
def test_not_ready_while_the_schema_is_behind_the_code(clock: FixedClock, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Database(url) as old:
        migrate.upgrade(old, "0007")
    app = make_app(url, clock, tmp_path)
    status, body, _ = readyz(app)
    app.extensions["walletcards.db"].dispose()
    assert status == 503
    migrations = by_name(body)["migrations"]
    assert migrations["status"] == "fail"
    assert migrations["detail"].startswith("at 0007, this code needs ")
    assert "walletcards db upgrade" in migrations["detail"]


def test_a_certificate_expiring_within_30_days_warns_but_stays_ready(
    app: Flask, make_program: MakeProgram, tmp_path: Path
) -> None:
    make_program(apple=apple_table_until(tmp_path, T0 + timedelta(days=20)))
    status, body, _ = readyz(app)
    assert status == 200 and body["status"] == "warn"
    check = by_name(body)["apple_certificate"]
    assert check["status"] == "warn"
    expiry = (T0 + timedelta(days=20)).date().isoformat()
    assert check["detail"].startswith(f"the pass certificate expires on {expiry} (20 days)")


def test_a_certificate_31_days_from_expiry_is_still_fine(
    app: Flask, make_program: MakeProgram, tmp_path: Path
) -> None:
    make_program(apple=apple_table_until(tmp_path, T0 + timedelta(days=31)))
    status, body, _ = readyz(app)
    assert status == 200 and by_name(body)["apple_certificate"]["status"] == "ok"


def test_a_key_that_cannot_be_opened_makes_the_service_unready_without_showing_the_password(
    app: Flask, make_program: MakeProgram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = apple_table_until(tmp_path, T0 + timedelta(days=200), KEY_PASSWORD)
    monkeypatch.setenv("READYZ_KEY_PASSWORD", "not the password at all")
    make_program(apple={**table, "private_key_password": "env:READYZ_KEY_PASSWORD"})
    status, body, text = readyz(app)
    assert status == 503
    check = by_name(body)["apple_certificate"]
    assert check["status"] == "fail"
    assert check["detail"].startswith("Apple passes cannot be signed: cannot load")
    assert KEY_PASSWORD not in text and "not the password at all" not in text
