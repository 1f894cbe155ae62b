"""A fresh clone is all the suite, the package and the build need: nothing reads a file beside
the repository (the developers' machine had a reference folder beside it; a user's clone has
not)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.kit.clone import ROOT, escapes_clone

SCANNED = ("walletcards", "tests", "tools", "bench", ".ci")
TEXT = {".py", ".toml", ".sh", ".cfg", ".ini", ".mako", ".html", ".js", ".css", ".md", ""}
PARENTS = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?((?:\.parent)+)")


def _scanned_files() -> list[Path]:
    files = [ROOT / "Makefile", ROOT / "pyproject.toml", ROOT / "wsgi.py"]
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path == Path(__file__).resolve() or "__pycache__" in path.parts:
                continue  # this file spells the patterns out
            if path.is_file() and path.suffix in TEXT:
                files.append(path)
    return files


def _forbidden() -> list[str]:
    # spelt in pieces so that a grep for the folder name finds real uses only
    words = ["../" + "sh" + "ared", "/work/", "ROOT.parent", "parent.parent.parent"]
    if ROOT.parent != Path("/"):
        words.append(str(ROOT.parent) + "/")
    return words


def _boundary(path: Path) -> Path:
    """How far up `Path(__file__).parent...` may go: the package for its own modules (an
    installed wheel has no repository around it), the clone for everything else."""
    package = ROOT / "walletcards"
    return package if path.is_relative_to(package) else ROOT


@pytest.mark.once
def test_no_source_file_names_a_path_outside_the_repository() -> None:
    problems = []
    for path in _scanned_files():
        text = path.read_text(errors="replace")
        relative = path.relative_to(ROOT)
        problems += [f"{relative}: {word!r}" for word in _forbidden() if word in text]
        allowed = len(path.relative_to(_boundary(path)).parts)  # parents up to the boundary
        for match in PARENTS.finditer(text):
            if match.group(1).count(".parent") > allowed:
                problems.append(f"{relative}: {match.group(0)} leaves {_boundary(path).name}/")
    assert not problems, "paths outside the repository or package:\n" + "\n".join(problems)


@pytest.mark.once
def test_the_docs_send_a_reader_to_nothing_outside_the_repository() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    words = [*_forbidden(), "ARCHITECTURE.md", "FACTS"]  # the developers' notes, not shipped
    problems = [
        f"{path.relative_to(ROOT)}: {word!r}"
        for path in docs
        for word in words
        if word in path.read_text()
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.once
def test_the_scan_covers_the_suite_and_the_package() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in _scanned_files()}
    assert {"Makefile", "tests/conftest.py", "walletcards/__init__.py", ".ci/run"} <= scanned


@pytest.mark.once
def test_opening_a_file_beside_the_clone_is_caught_and_the_clone_system_and_tmp_are_not(
    tmp_path: Path,
) -> None:
    assert escapes_clone(str(ROOT.parent / "beside" / "reference" / "x.json"))
    assert escapes_clone(str(ROOT / ".." / "beside" / "x.json"))
    assert not escapes_clone(str(ROOT / "tests" / "data" / "x.json"))
    assert not escapes_clone(str(tmp_path / "x"))
    assert not escapes_clone("/usr/share/zoneinfo/UTC")
    assert not escapes_clone(str(ROOT.parent / ".netrc"))  # the user's own hidden files
