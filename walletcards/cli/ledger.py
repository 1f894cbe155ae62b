"""`walletcards ledger verify`: recompute balances from entries and lots."""

from __future__ import annotations

import sys

import click

from walletcards.cli.common import open_database


@click.group()
def ledger() -> None:
    """The points ledger."""


@ledger.command("verify")
@click.option("--program", "slug", help="Only this programme.")
def ledger_verify(slug: str | None) -> None:
    """Recompute every balance from entries and lots; exit 1 on any mismatch."""
    from sqlalchemy.exc import NoResultFound

    from walletcards.loyalty.verify import verify

    try:
        with open_database() as database, database.transaction() as session:
            mismatches = verify(session, slug)
    except NoResultFound as exc:
        raise click.ClickException(f"no programme {slug!r}") from exc
    for mismatch in mismatches:
        click.echo(f"card {mismatch.card_id}: {mismatch.check}: {mismatch.detail}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es)", err=True)
        sys.exit(1)
    click.echo("ledger verified: no mismatches")
