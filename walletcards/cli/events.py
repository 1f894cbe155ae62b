"""`walletcards events`: the signed events sent to the shop's endpoints."""

from __future__ import annotations

import click

from walletcards.cli.common import open_database
from walletcards.clock import SystemClock


@click.group()
def events() -> None:
    """Signed events sent to the shop's endpoints (see docs/events.md)."""


@events.command("list")
@click.option("--status", default=None, help="pending, delivered, failed or paused")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def events_list(status: str | None, limit: int) -> None:
    """The latest events: id, type, endpoint, status, attempts, last answer."""
    from walletcards.outbound.queue import recent_events

    with open_database() as database, database.transaction() as session:
        for row in recent_events(session, status, limit):
            fields = [str(row.id), row.event_id, row.type, row.endpoint_url, row.status]
            click.echo("\t".join([*fields, str(row.attempts), row.last_status or "-"]))


@events.command("replay")
@click.argument("row_id", type=int)
def events_replay(row_id: int) -> None:
    """Send an event again (same event id: receivers dedupe)."""
    from walletcards.outbound.queue import requeue_event

    with open_database() as database, database.transaction() as session:
        if not requeue_event(session, row_id, SystemClock().now()):
            raise click.ClickException(f"no event {row_id}")
    click.echo(f"event {row_id} queued again")


@events.command("resume")
@click.option("--program", "slug", required=True)
@click.argument("url")
def events_resume(slug: str, url: str) -> None:
    """Resume a paused endpoint: its waiting events are sent again."""
    from walletcards.loyalty.programs import get_program
    from walletcards.outbound.queue import resume_endpoint

    with open_database() as database, database.transaction() as session:
        resume_endpoint(session, get_program(session, slug), url, SystemClock().now())
    click.echo(f"{url} resumed")
