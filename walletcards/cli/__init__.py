"""The `walletcards` command group: one module per command group, each command an entry point
that owns its transaction and calls domain functions."""

from __future__ import annotations

import click

from walletcards.cli import (
    certs,
    customer,
    dashboard,
    database,
    demo,
    email,
    events,
    imports,
    inbox,
    jobs,
    ledger,
    operations,
    program,
    serve,
    shop,
    staff,
)


@click.group()
def main() -> None:
    """Loyalty cards in Apple Wallet and Google Wallet."""


for command in (
    database.db,
    program.program,
    staff.staff,
    certs.certs,
    ledger.ledger,
    inbox.inbox,
    serve.worker,
    events.events,
    imports.import_,
    email.email,
    jobs.jobs,
    demo.demo,
    serve.serve,
    operations.doctor,
    shop.shop,
    customer.customer,
    dashboard.dashboard,
):
    main.add_command(command)
