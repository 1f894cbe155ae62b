"""`walletcards inbox`: webhook deliveries as they arrived, the appliers' backlog, applying
it now, retrying a parked delivery and replaying one."""

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
    """The latest deliveries: id, received, source, topic, order, outcome, detail.

    Outcome ``accepted``: waiting for an applier (detail: its last failure, if any);
    ``parked``: failed every attempt (see `inbox retry`)."""
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
                        (row.detail or "").replace("\n", " "),
                    ]
                )
            )


@inbox.command("backlog")
def inbox_backlog() -> None:
    """Deliveries waiting for the appliers (due now / backing off), the oldest one's age, and
    the parked ones."""
    from walletcards.orders.inbox import backlog

    now = SystemClock().now()
    with open_database() as database, database.transaction() as session:
        found = backlog(session, now)
    age = f"{(now - found.oldest).total_seconds():.0f} s" if found.oldest else "-"
    click.echo(
        f"waiting\t{found.waiting}\ndue now\t{found.due}\n"
        f"oldest waiting\t{age}\nparked\t{found.parked}"
    )


@inbox.command("apply")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 10_000))
def inbox_apply(batch: int) -> None:
    """Apply every delivery due now, here, then exit (the worker's appliers do this all along)."""
    from walletcards.orders.applier import Applier

    settings = load_settings()
    with open_database() as database:
        taken = Applier(database, settings.public_url, SystemClock(), batch).drain()
    click.echo(f"{taken} deliveries taken")


@inbox.command("retry")
@click.argument("delivery", type=click.IntRange(1, 2**63 - 1))
def inbox_retry(delivery: int) -> None:
    """Queue a parked delivery again (after fixing what made it fail)."""
    from walletcards.orders.inbox import retry

    try:
        with open_database() as database, database.transaction() as session:
            retry(session, delivery)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"delivery {delivery} queued again")


@inbox.command("replay")
@click.argument("delivery", type=click.IntRange(1, 2**63 - 1))
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
