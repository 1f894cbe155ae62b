"""The README's command-line section is true: every command it lists exists with the options it
shows, and every command the CLI has is listed."""

from __future__ import annotations

import re
import subprocess
import sys

import click
import pytest

from tests.kit.clone import ROOT
from walletcards.cli import main

WORD = re.compile(r"[a-z][a-z-]*")


def _documented() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(command path, options shown) for each line of the section's block that starts with
    `walletcards `."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    found = []
    for line in block.splitlines():
        if not line.startswith("walletcards "):
            continue
        usage = re.split(r"\s{2,}", line, maxsplit=1)[0]  # the description follows 2+ spaces
        words = usage.split()[1:]
        path: list[str] = []
        for word in words:
            if not WORD.fullmatch(word):
                break
            path.append(word)
        options = tuple(re.findall(r"(?<![\w-])--[a-z][a-z-]*", usage))
        found.append((tuple(path), options))
    return found


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _commands(command, (*prefix, name))
        else:
            found.add((*prefix, name))
    return found


@pytest.mark.once
def test_the_parser_finds_commands_and_their_options_in_the_readme() -> None:
    documented = dict(_documented())
    assert documented[("db", "upgrade")] == ()
    assert documented[("inbox", "list")] == ("--program", "--limit")


@pytest.mark.once
@pytest.mark.parametrize(
    ("path", "options"), _documented(), ids=lambda value: " ".join(value) or "-"
)
def test_every_command_in_the_readme_runs_with_help_and_has_the_options_it_shows(
    path: tuple[str, ...], options: tuple[str, ...]
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "walletcards.cli", *path, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Usage: python -m walletcards.cli {' '.join(path)}" in result.stdout
    missing = [option for option in options if option not in result.stdout]
    assert not missing, f"the README shows {missing}, `walletcards {' '.join(path)}` has none"


@pytest.mark.once
def test_every_command_of_the_cli_is_in_the_readme() -> None:
    documented = {path for path, _ in _documented()}
    assert _commands(main) - documented == set()
