"""Real gunicorn with walletcards.gunicorn_config: two worker processes count into one
PROMETHEUS_MULTIPROC_DIR, any of them answers /metrics with the sum, a dead worker's counts
survive, stale files are cleared at start, and gunicorn's own log lines are in our format."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.kit.clone import ROOT
from walletcards import migrate
from walletcards.db import Database
from walletcards.gunicorn_config import remove_stale

TOKEN = "metrics-token-0123456789abcdef"
pytestmark = pytest.mark.once


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, token: str | None = None) -> tuple[int, str]:
    """One request on a new connection (so the kernel may hand it to either worker)."""
    address, _, path = url.removeprefix("http://").partition("/")
    host, _, port = address.partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(
            "GET", f"/{path}", headers={"Authorization": f"Bearer {token}"} if token else {}
        )
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def readyz_count(base: str) -> float:
    status, text = get(f"{base}/metrics", TOKEN)
    assert status == 200, text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "walletcards_http_request_duration_seconds_count"
                and sample.labels["endpoint"] == "health.readyz"
            ):
                return sample.value
    return 0.0


def worker_pids(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def test_two_gunicorn_workers_report_one_sum_that_survives_a_worker_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'gunicorn.db'}"
    with Database(url) as database:
        migrate.upgrade(database)
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_999999999.db"
    stale.write_bytes(b"garbage left by a process that is long gone")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "WALLETCARDS_DATABASE_URL": url,
        "WALLETCARDS_PUBLIC_URL": "https://cards.example.com",
        "WALLETCARDS_SECRET_KEY": "test-secret-key-0123456789",
        "WALLETCARDS_METRICS_TOKEN": TOKEN,
        "WALLETCARDS_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "python:walletcards.gunicorn_config"]
    command += ["--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    log = tmp_path / "gunicorn.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while len(worker_pids(server.pid)) < 2 or get(f"{base}/healthz")[0] != 200:
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.2)
        assert not stale.exists()

        # concurrent batches until both workers have answered some (which one accepts is
        # the kernel's choice: on a loaded machine one may take a whole batch)
        sent, writers = 0, set[str]()
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(8) as pool:
            while len(writers) < 2:
                assert time.monotonic() < deadline, writers
                statuses = list(pool.map(lambda _: get(f"{base}/readyz")[0], range(24)))
                assert statuses == [200] * 24
                sent += 24
                writers = {p.stem.rpartition("_")[2] for p in metrics_dir.glob("histogram_*.db")}
        assert [readyz_count(base) for _ in range(6)] == [float(sent)] * 6  # whoever answers

        victim = next(iter(worker_pids(server.pid)))
        os.kill(victim, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while victim in worker_pids(server.pid) or len(worker_pids(server.pid)) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert [readyz_count(base) for _ in range(4)] == [float(sent)] * 4
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])


def test_remove_stale_keeps_the_files_of_running_processes(tmp_path: Path) -> None:
    mine = tmp_path / f"counter_{os.getpid()}.db"
    gone = tmp_path / "histogram_999999999.db"
    for path in (mine, gone):
        path.write_bytes(b"")
    assert remove_stale(tmp_path) == [gone]
    assert mine.exists() and not gone.exists()
