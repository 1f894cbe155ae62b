"""`walletcards doctor`: what an operator runs to see how the service is doing."""

from __future__ import annotations

import sys

import click

from walletcards.cli.common import load_settings
from walletcards.clock import SystemClock
from walletcards.db import Database


@click.command()
def doctor() -> None:
    """Check database, migrations, Apple certificates and the worker's backlog; exit 1 when
    anything fails or needs attention soon (the same checks as GET /readyz, plus the backlog)."""
    from walletcards import logs, readiness
    from walletcards.sync.activity import version

    settings = load_settings()
    click.echo(f"walletcards {version()}, database {logs.safe_url(settings.database_url)}")
    with Database(settings.database_url) as database:
        checks = readiness.doctor_checks(
            database, settings.smtp_url is not None, SystemClock().now()
        )
    for check in checks:
        name = f"{check.name} {check.program}" if check.program else check.name
        click.echo(f"{check.status.upper():<5} {name}: {check.detail}")
    status = readiness.overall(checks)
    if status != readiness.OK:
        click.echo(f"doctor: {status}: see the lines above", err=True)
        sys.exit(1)
    click.echo("doctor: all checks passed")
