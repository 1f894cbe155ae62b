from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from walletcards.cli import main
from walletcards.db import Database


def test_demo_issues_a_card_and_writes_a_signed_pass(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
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
