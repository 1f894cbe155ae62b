"""No module of walletcards/ reaches into another's private names (a leading underscore):
what two modules share is public, in the module that owns it (views share request handling
through walletcards/web.py, not through each other)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import walletcards

PACKAGE = Path(walletcards.__file__).resolve().parent


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module an ``from ... import`` names, relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_imports(path: Path, text: str | None = None) -> list[str]:
    """``from walletcards.x import _y``, ``import walletcards._x``, and ``name._y`` where
    ``name`` was imported from walletcards (a module or a class of another module), in the
    module at ``path`` (its text, or ``text`` in its place)."""
    module = _module_name(path)
    source_text = path.read_text(encoding="utf-8") if text is None else text
    tree = ast.parse(source_text, filename=str(path))
    found: list[str] = []
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path.name == "__init__.py")
            if source.split(".")[0] != "walletcards" or source == module:
                continue
            if any(_private(part) for part in source.split(".")):
                found.append(f"{path.name}:{node.lineno} from {source}")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path.name}:{node.lineno} {source}.{alias.name}")
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "walletcards":
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{path.name}:{node.lineno} import {alias.name}")
                imported.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
        ):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


MODULES = sorted(
    path for path in PACKAGE.rglob("*.py") if "migrations" not in path.relative_to(PACKAGE).parts
)


@pytest.mark.once
def test_no_module_imports_another_modules_private_names() -> None:
    found = {
        str(path.relative_to(PACKAGE)): hits for path in MODULES if (hits := private_imports(path))
    }
    assert found == {}


@pytest.mark.once
def test_the_check_sees_a_private_import() -> None:
    sample = (
        "from walletcards.cashier.api import _staff\n"
        "from walletcards.loyalty import ledger\n"
        "from ._local import thing\n"
        "ledger._private(1)\n"
        "x = {}._asdict\n"
    )
    assert private_imports(PACKAGE / "admin" / "api.py", sample) == [
        "api.py:1 walletcards.cashier.api._staff",
        "api.py:3 from walletcards.admin._local",
        "api.py:4 ledger._private",
    ]
