"""`walletcards email`: the card emails in the outbox, and sending one again."""

from __future__ import annotations

import click

from walletcards.cli.common import load_settings, open_database
from walletcards.clock import SystemClock
from walletcards.db import Database


@click.group()
def email() -> None:
    """The card email."""


@email.command("resend")
@click.option("--program", "slug", required=True)
@click.argument("member_number")
def email_resend(slug: str, member_number: str) -> None:
    """Send a customer their card email again (the worker delivers it)."""
    from walletcards.loyalty.cards import card_by_member_number
    from walletcards.loyalty.programs import get_program
    from walletcards.outbound.outbox import queue_card_email

    with open_database() as database, database.transaction() as session:
        program = get_program(session, slug)
        card = card_by_member_number(session, program, member_number)
        if card is None:
            raise click.ClickException(f"no card {member_number} in {slug}")
        row = queue_card_email(session, program, card, SystemClock().now())
        if row is None:
            raise click.ClickException(f"the card email is turned off for {slug}")
        status = row.status
    click.echo(f"card email {status}" + (" (no email address)" if status == "skipped" else ""))


@email.command("list")
@click.option("--program", "slug", default=None, help="Only this programme.")
@click.option(
    "--status",
    type=click.Choice(["pending", "sent", "skipped", "failed", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def email_list(slug: str | None, status: str, limit: int) -> None:
    """Card emails in the outbox, newest first: id, queued, programme, member, recipient,
    status, attempts, card page, last error. Without WALLETCARDS_SMTP_URL they are held
    (pending); the card page link is what the email would have carried."""
    from walletcards.links import card_links
    from walletcards.loyalty.programs import UnknownProgram, get_program
    from walletcards.outbound.queue import recent_emails

    settings = load_settings()
    if settings.smtp_url is None and status in ("pending", "all"):
        click.echo("WALLETCARDS_SMTP_URL is not set: pending card emails are held", err=True)
    try:
        with Database(settings.database_url) as database, database.transaction() as session:
            program = get_program(session, slug) if slug else None
            rows = recent_emails(session, program, None if status == "all" else status, limit)
    except UnknownProgram as exc:
        raise click.ClickException(str(exc)) from exc
    for row, member, token, program_slug in rows:
        fields = [str(row.id), row.created_at.isoformat(timespec="seconds"), program_slug, member]
        fields += [row.recipient or "-", row.status, str(row.attempts)]
        fields += [str(card_links(settings.public_url, token, False)["url"])]
        click.echo("\t".join([*fields, row.last_error or ""]))
