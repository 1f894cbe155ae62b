"""What `pip install walletcards` gets: the wheel carries the till's and the dashboard's static
files and the templates, and the build is free of setuptools warnings. Built and installed
offline into a fresh virtualenv; the dependencies come from this interpreter's site-packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.kit.clone import ROOT

# Runs inside the fresh virtualenv: the installed package, never the clone.
SERVE_FROM_WHEEL = """
import json, sys, tempfile
from pathlib import Path
import walletcards
from walletcards import create_app, migrate
from walletcards.db import Database
from walletcards.settings import Secret, Settings

here = Path(tempfile.mkdtemp())
settings = Settings(
    database_url=f"sqlite:///{here / 'wheel.db'}",
    public_url="http://127.0.0.1:8000",
    secret_key=Secret("wheel-test-secret-key-0123"),
    instance_path=here,
)
with Database(settings.database_url) as database:
    migrate.upgrade(database)
app = create_app(settings)
client = app.test_client()
paths = sys.argv[1:]
statuses = {path: client.get(path).status_code for path in paths}
app.extensions["walletcards.db"].dispose()
print(json.dumps({"package": walletcards.__file__, "statuses": statuses}))
"""
SERVED = [
    "/static/cashier/cashier.js",
    "/static/cashier/cashier.css",
    "/static/vendor/jsqr/jsQR.js",
    "/static/admin/admin.css",
    "/cashier/?program=demo",  # rendered from the packaged templates
    "/admin/",
]


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PIP_REQUIRE_VIRTUALENV"}}
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel, built from a copy of the sources (the clone stays clean), and the build log."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "walletcards",
        source / "walletcards",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    log = _run(
        sys.executable,
        *("-m", "pip", "wheel", "-v", "--no-deps", "--no-index", "--no-build-isolation"),
        *("-w", work / "dist", source),
        cwd=work,
    )
    (wheel,) = (work / "dist").glob("walletcards-*.whl")
    return wheel, log.stdout + log.stderr


@pytest.mark.once
def test_the_wheel_builds_without_setuptools_warnings(built: tuple[Path, str]) -> None:
    _, log = built
    assert "Successfully built walletcards" in log
    assert "Warning" not in log and "deprecated" not in log.lower(), log


@pytest.mark.once
def test_an_installed_wheel_serves_the_till_the_dashboard_and_their_static_files(
    built: tuple[Path, str], tmp_path: Path
) -> None:
    wheel, _ = built
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        sys.executable,
        *("-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel),
        cwd=tmp_path,
    )
    # the dependencies, offline: this interpreter's packages, after the venv's own
    purelib = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    ).stdout.strip()
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = tmp_path / "serve_from_wheel.py"
    script.write_text(SERVE_FROM_WHEEL)
    answer = json.loads(_run(python, script, *SERVED, cwd=tmp_path).stdout)
    assert Path(answer["package"]).is_relative_to(venv)  # the wheel's copy, not the clone
    assert answer["statuses"] == dict.fromkeys(SERVED, 200)
    assert _run(venv / "bin" / "walletcards", "--help", cwd=tmp_path).returncode == 0
