"""`walletcards db`: the database schema."""

from __future__ import annotations

import click

from walletcards.cli.common import open_database


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision."""
    from walletcards import migrate

    with open_database() as database:
        migrate.upgrade(database)
        click.echo(f"database at the latest revision ({database.engine.url.render_as_string()})")
