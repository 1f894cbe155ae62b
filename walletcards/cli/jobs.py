"""`walletcards jobs run-due`: the scheduled jobs, on demand."""

from __future__ import annotations

import click

from walletcards.cli.common import load_settings, open_database
from walletcards.clock import SystemClock


@click.group()
def jobs() -> None:
    """Scheduled jobs (the worker runs them every minute)."""


@jobs.command("run-due")
@click.option("--now", "at", default=None, help="ISO-8601 instant to run as (default: now).")
def jobs_run_due(at: str | None) -> None:
    """Release holds, expire lots, warn of expiries, birthday bonuses, tier re-qualification,
    orders reconciled from the shops."""
    from datetime import datetime

    from walletcards.clients import build_clients
    from walletcards.clock import as_utc
    from walletcards.sync.jobs import run_due

    try:
        now = as_utc(datetime.fromisoformat(at)) if at else SystemClock().now()
    except ValueError as exc:
        raise click.ClickException(f"--now: {at!r} is not an ISO-8601 date-time") from exc
    settings = load_settings()
    with open_database() as database, build_clients(settings) as clients:
        counts = run_due(database, now, clients, settings.public_url)
    if not counts:
        click.echo("another process is running the jobs; nothing done")
    for name, count in counts.items():
        click.echo(f"{name}: {count}")
