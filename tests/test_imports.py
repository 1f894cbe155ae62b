"""Each module imports on its own in a fresh interpreter (whatever is imported first): the
test suite imports models early and would hide a circular import that `make run` meets."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import walletcards

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(walletcards.__path__, "walletcards.")
    if ".migrations" not in info.name
)


@pytest.mark.once
@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-800:]
