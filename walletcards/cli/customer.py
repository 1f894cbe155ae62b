"""`walletcards customer export|erase`: a customer's data rights from the command line (the
owner's API has the same: GET …/customers/<member>/export, POST …/customers/<member>/erasure)."""

from __future__ import annotations

import getpass
import json

import click

from walletcards.cli.common import load_settings
from walletcards.clock import SystemClock
from walletcards.db import Database


@click.group()
def customer() -> None:
    """A customer's personal data: export it, erase it (README "Personal data")."""


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return "cli"


@customer.command("export")
@click.option("--program", "slug", required=True)
@click.argument("who")
def customer_export(slug: str, who: str) -> None:
    """Print everything kept about WHO (email, phone or member number) as JSON."""
    from walletcards.loyalty.programs import UnknownProgram, get_program
    from walletcards.rights.export import export_customer
    from walletcards.rights.people import NoSuchCustomer, find_customer

    try:
        with (
            Database(load_settings().database_url) as database,
            database.transaction() as session,
        ):
            program = get_program(session, slug)
            found = find_customer(session, program, who)
            document = export_customer(session, program, found, SystemClock().now())
    except (UnknownProgram, NoSuchCustomer) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@customer.command("erase")
@click.option("--program", "slug", required=True)
@click.option("--by", "actor", help="Who asked for it, recorded (default: cli:<user>).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.argument("who")
def customer_erase(slug: str, actor: str | None, yes: bool, who: str) -> None:
    """Erase WHO's personal data (email, phone or member number); the card is voided, the
    ledger kept. Asks first unless --yes."""
    from walletcards.loyalty.programs import UnknownProgram, get_program
    from walletcards.rights.erasure import erase
    from walletcards.rights.people import NoSuchCustomer, find_customer

    settings = load_settings()
    try:
        with Database(settings.database_url) as database:
            with database.transaction() as session:  # who, then ask outside the transaction
                found = find_customer(session, get_program(session, slug), who)
                customer_id, erased = found.id, found.erased_at is not None
            if not yes and not erased:
                click.confirm(
                    f"Erase the personal data of {who!r} of {slug}? This cannot be undone",
                    abort=True,
                )
            with database.transaction() as session:
                done = erase(
                    session,
                    get_program(session, slug),
                    customer_id,
                    SystemClock().now(),
                    actor=(actor or _operator())[:200],
                    key=settings.secret_key.reveal(),
                )
    except (UnknownProgram, NoSuchCustomer) as exc:
        raise click.ClickException(str(exc)) from exc
    state = "erased" if done.created else "already erased"
    click.echo(
        f"member {done.member_number}: {state} at {done.erased_at.isoformat()} by {done.erased_by}"
    )
