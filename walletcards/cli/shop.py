"""`walletcards shop`: the programme's webhooks in its shop, through the shop's admin API
(``[shopify]`` / ``[woocommerce]``): connect (create what is missing) and check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from walletcards.cli.common import command_transaction, load_settings

if TYPE_CHECKING:
    from walletcards.loyalty.models import Program


@click.group()
def shop() -> None:
    """The programme's webhook subscriptions in its shop."""


def _shops(slug: str, platform: str | None) -> list[tuple[str, Program, str | None]]:
    """(platform, programme, woocommerce secret) for each platform the programme configures."""
    from walletcards.loyalty.programs import UnknownProgram, get_program, program_config

    with command_transaction(UnknownProgram) as session:
        program = get_program(session, slug)
        session.expunge(program)
    config = program_config(program)
    found: list[tuple[str, Program, str | None]] = []
    for name, table in (("shopify", config.shopify), ("woocommerce", config.woocommerce)):
        if table is not None and platform in (None, name):
            secret = config.webhooks.source(name).secret
            found.append((name, program, secret.reveal() if secret else None))
    if not found:
        raise click.ClickException(f"programme {slug!r} has no [shopify] or [woocommerce] table")
    return found


PLATFORM = click.option("--platform", type=click.Choice(["shopify", "woocommerce"]))


@shop.command("connect")
@click.option("--program", "slug", required=True, help="The programme's slug.")
@PLATFORM
def shop_connect(slug: str, platform: str | None) -> None:
    """Register the webhooks the programme needs (existing ones are kept)."""
    from walletcards.clients import build_clients
    from walletcards.shops import connect
    from walletcards.shops.admin import ShopError

    settings = load_settings()
    with build_clients(settings) as clients:
        for name, program, secret in _shops(slug, platform):
            url = connect.webhook_url(settings.public_url, slug, name)
            if name == "woocommerce" and secret is None:
                raise click.ClickException("webhooks.woocommerce_secret is not set here")
            try:
                admin = clients.shops.for_program(program, name)
                assert admin is not None
                made = connect.connect(admin, name, url, secret)
            except ShopError as exc:
                raise click.ClickException(f"{name}: {exc}") from exc
            for subscription in made:
                click.echo(f"{name}\tcreated\t{subscription.topic}\t{subscription.url}")
            if not made:
                click.echo(f"{name}\tnothing to do: every subscription is there")


@shop.command("check")
@click.option("--program", "slug", required=True, help="The programme's slug.")
@PLATFORM
def shop_check(slug: str, platform: str | None) -> None:
    """List the shop's subscriptions for our topics; exit 1 when one is missing."""
    from walletcards.clients import build_clients
    from walletcards.shops import connect
    from walletcards.shops.admin import ShopError

    settings = load_settings()
    missing = False
    with build_clients(settings) as clients:
        for name, program, _ in _shops(slug, platform):
            url = connect.webhook_url(settings.public_url, slug, name)
            try:
                admin = clients.shops.for_program(program, name)
                assert admin is not None
                report = connect.check(admin, name, url)
            except ShopError as exc:
                raise click.ClickException(f"{name}: {exc}") from exc
            for s in report.ours:
                click.echo(f"{name}\tok\t{s.topic}\t{s.url}")
            for s in report.elsewhere:
                click.echo(f"{name}\telsewhere\t{s.topic}\t{s.url}")
            for topic in report.missing:
                click.echo(f"{name}\tmissing\t{topic}\t{url}")
            missing = missing or bool(report.missing)
    if missing:
        click.echo("missing subscriptions: run `walletcards shop connect`", err=True)
        raise SystemExit(1)
