"""The `walletcards` command group. Each command is an entry point: it owns its transaction."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from walletcards import cli_operations, logs
from walletcards.cashier.commands import staff as staff_commands
from walletcards.clock import SystemClock
from walletcards.db import Database
from walletcards.settings import DEV_PUBLIC_URL, ConfigError, Settings

if TYPE_CHECKING:
    from walletcards.loyalty.config_tables import AppleTable


def _settings(dev_public_url: str | None = None) -> Settings:
    """The settings; in development the public URL defaults to ``dev_public_url`` (where this
    command's server is reached) when given."""
    try:
        return Settings.from_env(dev_public_url=dev_public_url or DEV_PUBLIC_URL)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _database() -> Database:
    return Database(_settings().database_url)


@click.group()
def main() -> None:
    """Loyalty cards in Apple Wallet and Google Wallet."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision."""
    from walletcards import migrate

    with _database() as database:
        migrate.upgrade(database)
        click.echo(f"database at the latest revision ({database.engine.url.render_as_string()})")


@main.group()
def program() -> None:
    """Loyalty programmes, configured as TOML files."""


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

    settings = _settings()
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
    from sqlalchemy import select

    from walletcards.loyalty.models import Program

    with _database() as database, database.transaction() as session:
        for slug, name, currency in session.execute(
            select(Program.slug, Program.name, Program.currency).order_by(Program.slug)
        ):
            click.echo(f"{slug}\t{currency}\t{name}")


main.add_command(staff_commands)


@main.group()
def certs() -> None:
    """Certificates for Apple Wallet passes."""


@certs.command("dev")
@click.option(
    "--dir", "directory", default="certs/dev", show_default=True, type=click.Path(file_okay=False)
)
@click.option("--pass-type-id", default="pass.com.example.demo", show_default=True)
@click.option("--team-id", default="ABCDE12345", show_default=True)
@click.option(
    "--password-env",
    default=None,
    help="Encrypt pass.key with the password in this environment variable.",
)
@click.option("--force", is_flag=True, help="Replace an existing dev chain.")
def certs_dev(
    directory: str, pass_type_id: str, team_id: str, password_env: str | None, force: bool
) -> None:
    """A throwaway root -> WWDR-like intermediate -> Pass Type ID chain for local runs.

    Phones reject passes signed by it; it exists so the whole flow runs without Apple."""
    import os
    from pathlib import Path

    from walletcards.apple.certificates import make_dev_chain, write_dev_chain

    target = Path(directory)
    if (target / "pass.pem").exists() and not force:
        click.echo(f"{target}/ already holds a dev chain (use --force to replace it)")
        return
    password = os.environ.get(password_env) if password_env else None
    if password_env and not password:
        raise click.ClickException(f"{password_env} is not set")
    chain = make_dev_chain(pass_type_id, team_id, SystemClock().now())
    for path in write_dev_chain(chain, target, password):
        click.echo(f"wrote {path}")


@main.group()
def ledger() -> None:
    """The points ledger."""


@ledger.command("verify")
@click.option("--program", "slug", help="Only this programme.")
def ledger_verify(slug: str | None) -> None:
    """Recompute every balance from entries and lots; exit 1 on any mismatch."""
    from sqlalchemy.exc import NoResultFound

    from walletcards.loyalty.verify import verify

    try:
        with _database() as database, database.transaction() as session:
            mismatches = verify(session, slug)
    except NoResultFound as exc:
        raise click.ClickException(f"no programme {slug!r}") from exc
    for mismatch in mismatches:
        click.echo(f"card {mismatch.card_id}: {mismatch.check}: {mismatch.detail}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es)", err=True)
        sys.exit(1)
    click.echo("ledger verified: no mismatches")


@main.group()
def inbox() -> None:
    """Webhook deliveries as they arrived."""


@inbox.command("list")
@click.option("--program", "slug", help="Only this programme.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def inbox_list(slug: str | None, limit: int) -> None:
    """The latest deliveries: id, received, source, topic, order, outcome, detail."""
    from walletcards.loyalty.programs import get_program
    from walletcards.orders.inbox import recent

    with _database() as database, database.transaction() as session:
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

    settings = _settings()
    try:
        with _database() as database, database.transaction() as session:
            answer = replay(session, delivery, Context(settings.public_url, SystemClock().now()))
    except (LookupError, PayloadError, LedgerError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(answer))


@main.command()
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--lease",
    default=60,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds a claimed card stays with this worker (its push deadline).",
)
def worker(batch: int, lease: int) -> None:
    """Push card changes to phones and run the scheduled jobs, until SIGTERM/SIGINT."""
    import signal
    import threading

    from walletcards.sync.pusher import Pusher
    from walletcards.sync.worker import Worker

    settings = _settings()
    logs.configure(settings.log_level, settings.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    pusher = Pusher(settings)
    with Database(settings.database_url) as database:
        from walletcards.startup import log_problems

        log_problems(database, SystemClock().now())
        try:
            from datetime import timedelta

            from walletcards.google.sync import GoogleClients

            Worker(
                database,
                pusher,
                SystemClock(),
                batch=batch,
                lease=timedelta(seconds=lease),
                google=GoogleClients(settings),
                settings=settings,
            ).run(stop)
        finally:
            pusher.close()


@main.group()
def events() -> None:
    """Signed events sent to the shop's endpoints (see docs/events.md)."""


@events.command("list")
@click.option("--status", default=None, help="pending, delivered, failed or paused")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def events_list(status: str | None, limit: int) -> None:
    """The latest events: id, type, endpoint, status, attempts, last answer."""
    from sqlalchemy import select

    from walletcards.outbound.models import OutboundEvent

    with _database() as database, database.transaction() as session:
        query = select(OutboundEvent).order_by(OutboundEvent.id.desc()).limit(limit)
        if status:
            query = query.where(OutboundEvent.status == status)
        for row in session.execute(query).scalars():
            click.echo(
                "\t".join(
                    [
                        str(row.id),
                        row.event_id,
                        row.type,
                        row.endpoint_url,
                        row.status,
                        str(row.attempts),
                        row.last_status or "-",
                    ]
                )
            )


@events.command("replay")
@click.argument("row_id", type=int)
def events_replay(row_id: int) -> None:
    """Send an event again (same event id: receivers dedupe)."""
    from walletcards.outbound.models import OutboundEvent

    with _database() as database, database.transaction() as session:
        row = session.get(OutboundEvent, row_id)
        if row is None:
            raise click.ClickException(f"no event {row_id}")
        row.status, row.next_attempt_at = "pending", SystemClock().now()
    click.echo(f"event {row_id} queued again")


@events.command("resume")
@click.option("--program", "slug", required=True)
@click.argument("url")
def events_resume(slug: str, url: str) -> None:
    """Resume a paused endpoint: its waiting events are sent again."""
    from sqlalchemy import delete, update

    from walletcards.loyalty.programs import get_program
    from walletcards.outbound.models import OutboundEvent, PausedEndpoint

    with _database() as database, database.transaction() as session:
        program = get_program(session, slug)
        session.execute(
            delete(PausedEndpoint).where(
                PausedEndpoint.program_id == program.id, PausedEndpoint.endpoint_url == url
            )
        )
        session.execute(
            update(OutboundEvent)
            .where(
                OutboundEvent.program_id == program.id,
                OutboundEvent.endpoint_url == url,
                OutboundEvent.status == "paused",
            )
            .values(status="pending", next_attempt_at=SystemClock().now())
        )
    click.echo(f"{url} resumed")


@main.group(name="import")
def import_() -> None:
    """Bring data across from another system."""


@import_.command("customers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--program", "slug", required=True)
@click.option(
    "--source",
    "platform",
    type=click.Choice(["shopify", "woocommerce", "orders"]),
    default=None,
    help="The shop whose customer ids external_id holds (its next orders find them).",
)
@click.option(
    "--shop",
    default=None,
    help="The shop the ids come from; by default the one [webhooks] pins for --source.",
)
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@click.option(
    "--map", "mapping", default=None, help='discount_level to points, e.g. "5=500,10=1000,15=2000".'
)
@click.option(
    "--map-tier",
    "tier_mapping",
    default=None,
    help='discount_level to tiers, e.g. "5=silver,10=gold".',
)
def import_customers(
    path: str,
    slug: str,
    platform: str | None,
    shop: str | None,
    dry_run: bool,
    mapping: str | None,
    tier_mapping: str | None,
) -> None:
    """Customers with opening points (and tiers) from a CSV file (see README); idempotent."""
    from pathlib import Path

    from walletcards.admin import import_rows, importer
    from walletcards.loyalty.programs import UnknownProgram, get_program

    now = SystemClock().now()
    try:
        with _database() as database, database.transaction() as session:
            program = get_program(session, slug)
            chosen = import_rows.options(program, platform, shop, mapping, tier_mapping)
            plan = import_rows.read(Path(path), program, chosen)
            importer.skip_imported(session, program, plan)
            for line in importer.summary_lines(plan):
                click.echo(line)
            if dry_run:
                click.echo("dry run: nothing written")  # only SELECTs ran
                return
            with click.progressbar(
                length=len(plan.rows), label="importing", file=sys.stderr
            ) as bar:
                written = importer.apply(session, program, plan, now, bar.update)
    except (UnknownProgram, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"imported {written} customers ({plan.total} points); "
        f"{plan.already} already imported, {len(plan.rejected)} rejected"
    )


@main.group()
def email() -> None:
    """The card email."""


@email.command("resend")
@click.option("--program", "slug", required=True)
@click.argument("member_number")
def email_resend(slug: str, member_number: str) -> None:
    """Send a customer their card email again (the worker delivers it)."""
    from sqlalchemy import select

    from walletcards.loyalty.models import Card
    from walletcards.loyalty.programs import get_program
    from walletcards.outbound.hooks import queue_card_email

    with _database() as database, database.transaction() as session:
        program = get_program(session, slug)
        card = session.execute(
            select(Card).where(Card.program_id == program.id, Card.member_number == member_number)
        ).scalar_one_or_none()
        if card is None:
            raise click.ClickException(f"no card {member_number} in {slug}")
        row = queue_card_email(session, program, card, SystemClock().now())
        if row is None:
            raise click.ClickException(f"the card email is turned off for {slug}")
        status = row.status
    click.echo(f"card email {status}" + (" (no email address)" if status == "skipped" else ""))


@main.group()
def jobs() -> None:
    """Scheduled jobs (the worker runs them every minute)."""


@jobs.command("run-due")
@click.option("--now", "at", default=None, help="ISO-8601 instant to run as (default: now).")
def jobs_run_due(at: str | None) -> None:
    """Release holds, expire lots, warn of expiries, birthday bonuses, tier re-qualification."""
    from datetime import datetime

    from walletcards.clock import as_utc
    from walletcards.sync.jobs import run_due

    try:
        now = as_utc(datetime.fromisoformat(at)) if at else SystemClock().now()
    except ValueError as exc:
        raise click.ClickException(f"--now: {at!r} is not an ISO-8601 date-time") from exc
    with _database() as database:
        counts = run_due(database, now)
    if not counts:
        click.echo("another process is running the jobs; nothing done")
    for name, count in counts.items():
        click.echo(f"{name}: {count}")


@main.command()
@click.option(
    "--url",
    default=None,
    help="A running walletcards (e.g. http://127.0.0.1:8000); default: in-process.",
)
def demo(url: str | None) -> None:
    """Issue a demo card: signed paid order -> card page URL + a .pkpass file."""
    from walletcards import demo as demo_module

    try:
        card_url, path = demo_module.run(_settings(url), url)
    except demo_module.DemoError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"card page: {card_url}")
    click.echo(f"Apple pass: {path}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the app (the embedded default; use gunicorn with wsgi:app in production)."""
    import threading

    from werkzeug.serving import run_simple

    from walletcards import create_app
    from walletcards.sync.pusher import Pusher
    from walletcards.sync.worker import Worker

    local = "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host  # noqa: S104
    settings = _settings(f"http://{f'[{local}]' if ':' in local else local}:{port}")
    logs.configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    # The embedded default: the sync worker runs as a thread of this process.
    stop = threading.Event()
    pusher = Pusher(settings)
    database: Database = app.extensions["walletcards.db"]
    google = app.extensions["walletcards.clients"].google
    thread = threading.Thread(
        target=Worker(database, pusher, SystemClock(), google=google, settings=settings).run,
        args=(stop,),
        name="sync-worker",
        daemon=True,
    )
    thread.start()
    click.echo(f"walletcards on http://{host}:{port}/ (with an in-process sync worker)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        stop.set()
        thread.join(10)
        pusher.close()


# `doctor` and `email list` live in walletcards/cli_operations.py (kept out of this module)
main.add_command(cli_operations.doctor)
email.add_command(cli_operations.email_list)

if __name__ == "__main__":
    main()
