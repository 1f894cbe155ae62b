"""What `walletcards worker` tells its log: start-up, periodic summary, warnings, shutdown."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.fakes.apns import FakeApns
from tests.kit.clone import ROOT
from tests.kit.database import T0
from tests.kit.passes import paid_order, token_of
from tests.kit.programs import MakeProgram
from tests.sync.test_push import register
from tests.test_health import apple_table_until
from walletcards import logs, migrate
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.settings import Settings
from walletcards.sync.activity import announce
from walletcards.sync.worker import Worker

WORKER_LOG = "walletcards.sync.worker"


def worker_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == WORKER_LOG]


def test_the_worker_logs_its_start_a_summary_of_what_it_pushed_and_its_stop(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    apns: FakeApns,
    clients: Clients,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = token_of(paid_order(client, clock, "L-1"))
    register(client, database, token, "phone", "ab" * 32)
    worker = Worker(database, clients, settings)
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run, args=(stop,), kwargs={"poll": 0.05, "summary_every": 0.2}
    )
    with caplog.at_level(logging.INFO, logger="walletcards"):
        thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(
            getattr(r, "summary", {}).get("devices_pushed") for r in worker_records(caplog)
        ):
            time.sleep(0.05)
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
    records = worker_records(caplog)
    start = records[0].getMessage()
    assert start.startswith("walletcards ") and " worker starting: database " in start
    assert logs.safe_url(database.url) in start
    assert "programmes: demo" in start and f"APNs {settings.apns_url}" in start
    summaries = [r.summary for r in records if hasattr(r, "summary")]
    assert sum(s["devices_pushed"] for s in summaries) == 1 == len(apns.requests)
    assert sum(s["cards_pushed"] for s in summaries) == 1
    assert summaries[-1]["backlog_cards"] == 0 and summaries[0]["job_runs"] == 1
    assert "1 card(s) pushed to 1 device(s)" in "".join(
        r.getMessage() for r in records if hasattr(r, "summary")
    )
    held = [r for r in records if "card emails are held" in r.getMessage()]
    assert len(held) == 1 and held[0].levelno == logging.WARNING  # once, not every loop
    assert "demo" in held[0].getMessage()
    assert records[-1].getMessage().startswith("worker stopped after ")


def test_start_up_warns_30_days_before_a_pass_certificate_expires(
    database: Database,
    make_program: MakeProgram,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_program(slug="soon", apple=apple_table_until(tmp_path, T0 + timedelta(days=25)))
    with caplog.at_level(logging.INFO, logger="walletcards"):
        announce(database, settings, T0)
    (warning,) = [r for r in worker_records(caplog) if "certificate" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    expiry = (T0 + timedelta(days=25)).date().isoformat()
    assert warning.getMessage().startswith(
        f"programme soon: the pass certificate expires on {expiry} (25 days)"
    )


def test_start_up_with_an_unreachable_database_says_so_and_hides_the_password(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    url = "postgresql+psycopg://walletcards:hunter2-secret@127.0.0.1:9/walletcards"
    with Database(url) as unreachable, caplog.at_level(logging.INFO, logger="walletcards"):
        announce(unreachable, settings, T0)
    text = "\n".join(r.getMessage() for r in worker_records(caplog))
    assert "cannot read the programmes (OperationalError)" in text
    assert "walletcards:***@127.0.0.1:9/walletcards" in text and "programmes: unknown" in text
    assert "hunter2" not in text


@pytest.mark.once
def test_walletcards_worker_logs_json_lines_from_start_to_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    with Database(url) as database:
        migrate.upgrade(database)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "WALLETCARDS_DATABASE_URL": url,
        "WALLETCARDS_PUBLIC_URL": "https://cards.example.com",
        "WALLETCARDS_SECRET_KEY": "test-secret-key-0123456789",
        "WALLETCARDS_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "walletcards.cli", "worker"]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as worker:
        assert worker.stderr is not None
        first = json.loads(worker.stderr.readline())  # blocks until the start-up line
        worker.send_signal(signal.SIGTERM)
        rest = worker.stderr.read()
        assert worker.wait(30) == 0
    assert first["logger"] == WORKER_LOG and first["level"] == "INFO"
    assert f"database {url}, programmes: none, APNs https://api.push.apple.com" in first["message"]
    last = json.loads(rest.splitlines()[-1])
    assert last["message"].startswith("worker stopped after ")
