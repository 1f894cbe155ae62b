"""`walletcards doctor` and `walletcards email list`: what an operator runs to see how the
service is doing (registered on the command group in walletcards/cli.py)."""

from __future__ import annotations

import sys

import click

from walletcards.clock import SystemClock
from walletcards.db import Database
from walletcards.settings import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("list")
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
    from sqlalchemy import select

    from walletcards.links import card_links
    from walletcards.loyalty.models import Card, Program
    from walletcards.loyalty.programs import UnknownProgram, get_program
    from walletcards.outbound.models import OutboxEmail

    settings = _settings()
    if settings.smtp_url is None and status in ("pending", "all"):
        click.echo("WALLETCARDS_SMTP_URL is not set: pending card emails are held", err=True)
    query = (
        select(OutboxEmail, Card.member_number, Card.public_token, Program.slug)
        .join(Card, Card.id == OutboxEmail.card_id)
        .join(Program, Program.id == OutboxEmail.program_id)
        .order_by(OutboxEmail.id.desc())
        .limit(limit)
    )
    if status != "all":
        query = query.where(OutboxEmail.status == status)
    try:
        with Database(settings.database_url) as database, database.transaction() as session:
            if slug:
                query = query.where(OutboxEmail.program_id == get_program(session, slug).id)
            rows = session.execute(query).all()
    except UnknownProgram as exc:
        raise click.ClickException(str(exc)) from exc
    for row, member, token, program_slug in rows:
        fields = [str(row.id), row.created_at.isoformat(timespec="seconds"), program_slug, member]
        fields += [row.recipient or "-", row.status, str(row.attempts)]
        fields += [str(card_links(settings.public_url, token, False)["url"])]
        click.echo("\t".join([*fields, row.last_error or ""]))


@click.command()
def doctor() -> None:
    """Check database, migrations, Apple certificates and the worker's backlog; exit 1 when
    anything fails or needs attention soon (the same checks as GET /readyz, plus the backlog)."""
    from walletcards import logs, readiness
    from walletcards.sync.activity import version

    settings = _settings()
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
