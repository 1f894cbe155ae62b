"""What every command needs: the settings (a configuration error is a clean exit, not a
traceback) and the database they name."""

from __future__ import annotations

import click

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
