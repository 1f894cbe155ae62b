"""`walletcards program`: programmes as TOML files, applied idempotently."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from walletcards.cli.common import load_settings, open_database
from walletcards.clock import SystemClock
from walletcards.db import Database

if TYPE_CHECKING:
    from walletcards.loyalty.config_tables import AppleTable


@click.group()
def program() -> None:
    """Loyalty programmes, configured as TOML files."""


@program.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def program_check(path: str) -> None:
    """Check the programme file PATH without applying it: every problem, by field."""
    from walletcards.loyalty.config import ProgramConfigError, load_program_file

    try:
        config = load_program_file(path)
    except ProgramConfigError as exc:
        for where, what in exc.problems:
            click.echo(f"error: {where}: {what}", err=True)
        raise click.ClickException(f"{path}: {len(exc.problems)} problem(s)") from exc
    click.echo(f"{path}: programme {config.slug!r} is valid")


@program.command("apply")
@click.argument("path", type=click.Path(dir_okay=False))
def program_apply(path: str) -> None:
    """Create or update the programme described by PATH (idempotent)."""
    from walletcards.loyalty.config import (
        ProgramConfigError,
        event_url_problems,
        load_program_file,
    )
    from walletcards.loyalty.programs import apply_program

    settings = load_settings()
    try:
        config = load_program_file(path)
        destinations = event_url_problems(config.events, dev=settings.dev)
        if destinations:
            raise ProgramConfigError(destinations)
    except ProgramConfigError as exc:
        for where, what in exc.problems:
            click.echo(f"error: {where}: {what}", err=True)
        raise click.ClickException(f"{path}: not applied, nothing changed") from exc
    for warning in _check_apple(config.apple):
        click.echo(f"warning: {warning}", err=True)
    try:
        with Database(settings.database_url) as database, database.transaction() as session:
            _, outcome = apply_program(session, config, SystemClock().now())
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}; nothing changed") from exc
    click.echo(f"programme {config.slug!r} {outcome}")


def _check_apple(table: AppleTable | None) -> tuple[str, ...]:
    """The [apple] certificate must load, match the programme and chain to its WWDR."""
    from walletcards.apple.certificates import CertificateError, check_signer, load_signer

    if table is None:
        return ()
    try:
        signer = load_signer(
            table.certificate, table.private_key, table.wwdr_certificate, table.password()
        )
        return check_signer(
            signer, table.pass_type_identifier, table.team_identifier, SystemClock().now()
        )
    except CertificateError as exc:
        raise click.ClickException(f"apple: {exc}; nothing changed") from exc


@program.command("list")
def program_list() -> None:
    """List the programmes."""
    from walletcards.loyalty.programs import list_programs

    with open_database() as database, database.transaction() as session:
        for slug, name, currency in list_programs(session):
            click.echo(f"{slug}\t{currency}\t{name}")
