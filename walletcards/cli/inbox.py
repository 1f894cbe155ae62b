"""`walletcards inbox`: webhook deliveries as they arrived, and replaying one."""

from __future__ import annotations

import click

from walletcards.cli.common import load_settings, open_database
from walletcards.clock import SystemClock


@click.group()
def inbox() -> None:
    """Webhook deliveries as they arrived."""


@inbox.command("list")
@click.option("--program", "slug", help="Only this programme.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def inbox_list(slug: str | None, limit: int) -> None:
    """The latest deliveries: id, received, source, topic, order, outcome, detail."""
    from walletcards.loyalty.programs import get_program
    from walletcards.orders.inbox import recent

    with open_database() as database, database.transaction() as session:
        program = get_program(session, slug) if slug else None
        for row in recent(session, program, limit):
            click.echo(
                "\t".join(
                    [
                        str(row.id),
                        row.received_at.isoformat(timespec="seconds"),
                        row.source,
                        row.topic,
                        row.order_ref or "-",
                        row.outcome,
                        row.detail or "",
                    ]
                )
            )


@inbox.command("replay")
@click.argument("delivery", type=int)
def inbox_replay(delivery: int) -> None:
    """Apply a stored delivery again (business keys still dedupe)."""
    import json

    from walletcards.loyalty.ledger import LedgerError
    from walletcards.orders.events import PayloadError
    from walletcards.orders.inbox import replay
    from walletcards.orders.intake import Context

    settings = load_settings()
    try:
        with open_database() as database, database.transaction() as session:
            answer = replay(session, delivery, Context(settings.public_url, SystemClock().now()))
    except (LookupError, PayloadError, LedgerError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(answer))
