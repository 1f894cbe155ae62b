from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.kit.clone import ROOT
from tests.kit.programs import demo_tree
from walletcards.cli import main
from walletcards.db import Database

# what `make run` exports (Makefile DEV_ENV)
DEV_ENV = {
    "WALLETCARDS_DEV": "1",
    "DEMO_SHOPIFY_SECRET": "dev-only-shopify-secret",
    "DEMO_WOO_SECRET": "dev-only-woocommerce-secret",
    "DEMO_ORDERS_SECRET": "dev-only-orders-secret",
}


@pytest.mark.committing  # `walletcards demo` migrates on a connection of its own
def test_demo_issues_a_card_and_writes_a_signed_pass(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_tree())  # examples/demo.toml and certs/dev/, not the clone's
    env = {
        "WALLETCARDS_DEV": "1",
        "WALLETCARDS_DATABASE_URL": database.url,
        "WALLETCARDS_INSTANCE_PATH": str(tmp_path),
    }
    runner = CliRunner()
    result = runner.invoke(main, ["demo"], env=env)
    assert result.exit_code == 0, result.output
    assert "card page: http://127.0.0.1:8000/c/" in result.output
    written = tmp_path / "demo-card.pkpass"
    with zipfile.ZipFile(written) as archive:
        assert {"pass.json", "manifest.json", "signature"} <= set(archive.namelist())
    verified = runner.invoke(main, ["ledger", "verify", "--program", "demo"], env=env)
    assert verified.exit_code == 0 and "no mismatches" in verified.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WALLETCARDS_", "DEMO_"))}
    return {
        **clean,
        **DEV_ENV,
        "PYTHONPATH": str(ROOT),
        "WALLETCARDS_INSTANCE_PATH": str(tmp_path),
        "WALLETCARDS_DATABASE_URL": f"sqlite:///{tmp_path / 'walletcards.db'}",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walletcards.cli", *args],
        cwd=demo_tree(),  # examples/demo.toml names certs/dev/ relative to the folder
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """`walletcards serve --port <not 8000>` as `make run PORT=…` starts it."""
    env, port = _env(tmp_path), _free_port()
    for step in (["db", "upgrade"], ["program", "apply", "examples/demo.toml"]):
        assert _cli(env, *step).returncode == 0
    server = subprocess.Popen(
        [sys.executable, "-m", "walletcards.cli", "serve", "--port", str(port)],
        cwd=demo_tree(),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "walletcards serve exited"
                time.sleep(0.1)
        yield port, env
    finally:
        server.terminate()
        server.wait(10)


def _pass_json(data: bytes, where: Path) -> dict[str, object]:
    where.write_bytes(data)
    with zipfile.ZipFile(where) as archive:
        document: dict[str, object] = json.loads(archive.read("pass.json"))
        return document


@pytest.mark.once
def test_serve_on_another_port_links_every_card_to_that_port(
    served: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    port, env = served
    base = f"http://127.0.0.1:{port}"
    demo = _cli(env, "demo", "--url", base)
    assert demo.returncode == 0, demo.stderr
    card_url = demo.stdout.split("card page: ", 1)[1].split()[0]
    assert card_url.startswith(f"{base}/c/")
    with urllib.request.urlopen(card_url, timeout=10) as page:  # noqa: S310
        assert f'href="{card_url}/card.pkpass"' in page.read().decode()
    with urllib.request.urlopen(f"{card_url}/card.pkpass", timeout=10) as served_pass:  # noqa: S310
        served_json = _pass_json(served_pass.read(), tmp_path / "served.pkpass")
    assert served_json["webServiceURL"] == f"{base}/passkit/"
    written = _pass_json((tmp_path / "demo-card.pkpass").read_bytes(), tmp_path / "w.pkpass")
    assert written["webServiceURL"] == f"{base}/passkit/"


@pytest.mark.once
def test_demo_without_a_running_server_says_start_make_run_first(tmp_path: Path) -> None:
    result = _cli(_env(tmp_path), "demo", "--url", f"http://127.0.0.1:{_free_port()}")
    assert result.returncode == 1
    assert "start `make run` first" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
