"""What every command needs: the settings (a configuration error is a clean exit, not a
traceback), the database they name and a transaction in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from walletcards.db import Database
from walletcards.settings import DEV_PUBLIC_URL, ConfigError, Settings


def load_settings(dev_public_url: str | None = None) -> Settings:
    """The settings; in development the public URL defaults to ``dev_public_url`` (where this
    command's server is reached) when given."""
    try:
        return Settings.from_env(dev_public_url=dev_public_url or DEV_PUBLIC_URL)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def open_database() -> Database:
    return Database(load_settings().database_url)


@contextmanager
def command_transaction(*refusals: type[Exception]) -> Iterator[Session]:
    """One transaction in the configured database; any of ``refusals`` raised inside rolls it
    back and ends the command with its message (exit 1) rather than a traceback."""
    try:
        with open_database() as database, database.transaction() as session:
            yield session
    except refusals as exc:
        raise click.ClickException(str(exc)) from exc
