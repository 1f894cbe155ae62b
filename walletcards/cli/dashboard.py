"""`walletcards dashboard rollup`: the dashboard's daily roll-ups rebuilt on demand."""

from __future__ import annotations

from datetime import date, timedelta

import click

from walletcards.cli.common import open_database
from walletcards.clock import SystemClock

MONTH = 31  # days rewritten per transaction


@click.group()
def dashboard() -> None:
    """The owner's dashboard."""


@dashboard.command("rollup")
@click.option("--program", "slug", required=True, help="The programme's slug.")
@click.option("--since", default=None, help="First local day YYYY-MM-DD (default: its first).")
def dashboard_rollup(slug: str, since: str | None) -> None:
    """Rewrite the programme's daily roll-ups from SINCE up to yesterday (its time zone), from
    the ledger, orders and cards: after an import of old orders or a late correction."""
    from walletcards.admin.rollups import first_day, local_today, rebuild
    from walletcards.loyalty.programs import UnknownProgram, get_program

    try:
        start = date.fromisoformat(since) if since else None
    except ValueError as exc:
        raise click.ClickException(f"--since: {since!r} is not a date YYYY-MM-DD") from exc
    now = SystemClock().now()
    written = 0
    with open_database() as database:
        with database.transaction() as session:
            try:
                program = get_program(session, slug)
            except UnknownProgram as exc:
                raise click.ClickException(str(exc)) from exc
            first = first_day(session, program)
            start = max(start, first) if start and first else start or first
            today = local_today(program, now)
        day = start or today
        while day < today:
            days = [day + timedelta(days=n) for n in range(min(MONTH, (today - day).days))]
            with database.transaction() as session:
                written += rebuild(session, program, days, now)
            day += timedelta(days=len(days))
    click.echo(f"{written} day(s) rolled up")
