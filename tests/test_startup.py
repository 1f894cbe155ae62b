"""Start-up checks (walletcards/startup.py): every misconfigured programme is one clear log line
when the web app or a worker starts."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from tests.kit.clone import ROOT
from tests.kit.database import T0
from tests.kit.programs import MakeProgram
from walletcards import create_app
from walletcards.apple.certificates import make_dev_chain, write_dev_chain
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.settings import Secret, Settings

ORDERS_VARIABLE = "CARDS_TEST_UNSET_ORDERS_SECRET"
EVENTS_VARIABLE = "CARDS_TEST_UNSET_EVENTS_SECRET"
PTID, TEAM = "pass.com.example.startup", "STARTUP123"
Start = Callable[[], None]


@pytest.fixture
def start(database: Database, clock: FixedClock, tmp_path: Path) -> Iterator[Start]:
    """Starting the web app (create_app) is what runs the check."""
    apps: list[Flask] = []

    def started() -> None:
        settings = Settings(
            database_url=database.url,
            public_url="https://cards.example.com",
            secret_key=Secret("test-secret-key-0123456789"),
            instance_path=tmp_path,
        )
        apps.append(create_app(settings, build_clients(settings, clock)))

    yield started
    for app in apps:
        app.extensions["walletcards.db"].dispose()


def _lines(caplog: pytest.LogCaptureFixture, slug: str) -> list[tuple[str, str]]:
    return [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name == "walletcards.startup" and f"programme {slug}:" in record.getMessage()
    ]


def test_start_up_logs_one_line_per_unset_env_variable(
    make_program: MakeProgram,
    start: Start,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv(ORDERS_VARIABLE, raising=False)
    monkeypatch.delenv(EVENTS_VARIABLE, raising=False)
    make_program(
        webhooks={
            "orders_secret": f"env:{ORDERS_VARIABLE}",
            "woocommerce_secret": "literal",
            "woocommerce_site_url": "https://shop.example.com",
        },
        events=[{"url": "https://crm.example.com/hook", "secret": f"env:{EVENTS_VARIABLE}"}],
        apple=None,
    )
    with caplog.at_level("WARNING"):
        start()
    lines = _lines(caplog, "demo")
    assert len(lines) == 2 and {level for level, _ in lines} == {"ERROR"}, lines
    orders = f"webhooks.orders_secret names the environment variable {ORDERS_VARIABLE}"
    events = f"events[0].secret names the environment variable {EVENTS_VARIABLE}"
    assert any(orders in message and "503" in message for _, message in lines), lines
    assert any(events in message for _, message in lines), lines


def test_start_up_is_quiet_when_every_variable_is_set(
    make_program: MakeProgram,
    start: Start,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ORDERS_VARIABLE, "set-on-this-server")
    make_program(webhooks={"orders_secret": f"env:{ORDERS_VARIABLE}"}, apple=None)
    with caplog.at_level("WARNING"):
        start()
    assert _lines(caplog, "demo") == []


def test_start_up_warns_of_a_pass_certificate_that_expires_within_30_days(
    make_program: MakeProgram,
    start: Start,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chain = make_dev_chain(PTID, TEAM, T0 - timedelta(days=355), days=365)  # ends T0 + 10 days
    write_dev_chain(chain, tmp_path / "certs", None)
    apple = {
        "pass_type_identifier": PTID,
        "team_identifier": TEAM,
        "certificate": str(tmp_path / "certs" / "pass.pem"),
        "private_key": str(tmp_path / "certs" / "pass.key"),
        "wwdr_certificate": str(tmp_path / "certs" / "wwdr.pem"),
    }
    make_program(apple=apple, webhooks={"orders_secret": "literal"})
    with caplog.at_level("WARNING"):
        start()
        start()  # every start says it, not only the first
    expiry = (T0 + timedelta(days=10)).strftime("%Y-%m-%d")
    warnings = [m for level, m in _lines(caplog, "demo") if level == "WARNING"]
    assert len(warnings) == 2 and all(f"expires on {expiry}" in m for m in warnings), warnings


def test_start_up_names_the_unset_password_variable_of_an_encrypted_key(
    make_program: MakeProgram,
    start: Start,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_dev_chain(make_dev_chain(PTID, TEAM, T0 - timedelta(days=1)), tmp_path, "k3y-password")
    monkeypatch.delenv("CARDS_TEST_UNSET_KEY_PASSWORD", raising=False)
    apple = {
        "pass_type_identifier": PTID,
        "team_identifier": TEAM,
        "certificate": str(tmp_path / "pass.pem"),
        "private_key": str(tmp_path / "pass.key"),
        "private_key_password": "env:CARDS_TEST_UNSET_KEY_PASSWORD",
        "wwdr_certificate": str(tmp_path / "wwdr.pem"),
    }
    make_program(apple=apple, webhooks={"orders_secret": "literal"})
    with caplog.at_level("WARNING"):
        start()
    (line,) = _lines(caplog, "demo")
    assert line[0] == "ERROR" and "Apple passes cannot be signed" in line[1]
    assert "CARDS_TEST_UNSET_KEY_PASSWORD is not set" in line[1]
    assert "k3y-password" not in caplog.text


@pytest.mark.committing  # the worker is a process of its own
def test_a_worker_logs_the_problems_when_it_starts(
    database: Database, make_program: MakeProgram, tmp_path: Path
) -> None:
    make_program(webhooks={"orders_secret": f"env:{ORDERS_VARIABLE}"}, apple=None)
    env = {k: v for k, v in os.environ.items() if k != ORDERS_VARIABLE}
    env.update(
        PYTHONPATH=str(ROOT),
        WALLETCARDS_DEV="1",
        WALLETCARDS_DATABASE_URL=database.url,
        WALLETCARDS_INSTANCE_PATH=str(tmp_path),
    )
    with subprocess.Popen(
        [sys.executable, "-m", "walletcards.cli", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        assert worker.stderr is not None
        stderr = worker.stderr
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            for line in stderr:
                lines.put(line)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            first = lines.get(timeout=60)  # the check runs before the worker's first step
        except queue.Empty:
            first = "(the worker logged nothing in 60 s)"
        finally:
            worker.terminate()
            worker.wait(10)
            reader.join(10)  # the pipe ends with the process
    assert "ERROR walletcards.startup: programme demo: webhooks.orders_secret" in first
    assert ORDERS_VARIABLE in first
