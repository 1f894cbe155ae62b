"""Where the clone is, and the guards that a test run reads nothing beside it and writes
nothing into its certs/ (where `walletcards certs dev` puts a developer's own chain)."""

from __future__ import annotations

import os
import site
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the clone (this file is tests/kit/clone.py)
DEMO = ROOT / "examples" / "demo.toml"

# Where a test run may read besides the clone: the interpreter, its packages, the system (and
# temporary files, which lie beside the clone only when it sits in the temporary folder). A
# path under the folder holding the clone but outside the clone (a sibling folder of notes or
# data) exists only on the developer's machine, never in a user's fresh clone.
_READABLE = tuple(
    os.path.join(os.path.abspath(p), "")
    for p in (
        str(ROOT),
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *site.getsitepackages(),
        site.getusersitepackages(),
        *(f"/{top}" for top in ("usr", "etc", "dev", "proc", "sys", "var", "run", "lib", "opt")),
    )
)


_TEMPORARY = os.path.join(os.path.abspath(tempfile.gettempdir()), "")
_MADE_BY_TEMPFILE_OR_PYTEST = ("tmp", "pytest-of-")


def escapes_clone(path: str) -> bool:
    """True for a path beside the clone (under its parent folder, outside the clone, the
    interpreter, temporary files and the system; hidden files such as ~/.netrc are the user's)."""
    absolute = os.path.abspath(path)
    parent = os.path.join(os.path.dirname(ROOT), "")
    if not absolute.startswith(parent) or absolute.startswith(_READABLE):
        return False
    beside = absolute[len(parent) :]
    if parent == _TEMPORARY and beside.startswith(_MADE_BY_TEMPFILE_OR_PYTEST):
        return False  # the clone sits in /tmp: pytest's and tempfile's folders are its siblings
    return not any(part.startswith(".") for part in Path(beside).parts)


CERTS = os.path.join(ROOT, "certs", "")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
_outside_reads: list[str] = []
_certs_written: list[str] = []


def _record_outside_reads(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        path = os.fsdecode(args[0])
        if path and escapes_clone(path):
            _outside_reads.append(path)
        mode, flags = args[1] if isinstance(args[1], str) else "", args[2]
        writes = set(mode) & set("wax+") or (isinstance(flags, int) and flags & _WRITE_FLAGS)
        if path and writes and os.path.abspath(path).startswith(CERTS):
            _certs_written.append(path)


@pytest.fixture(scope="session", autouse=True)
def _reads_stay_inside_the_clone() -> Iterator[None]:
    """Every file the suite opens in this process is inside the clone (or the system's), and
    none in the clone's certs/ is opened for writing."""
    sys.addaudithook(_record_outside_reads)
    yield
    assert not _outside_reads, f"the tests opened files outside the clone: {_outside_reads}"
    assert not _certs_written, f"the tests wrote into the clone's certs/: {_certs_written}"
