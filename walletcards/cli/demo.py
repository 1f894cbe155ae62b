"""`walletcards demo`: issue a demo card through a signed order."""

from __future__ import annotations

import click

from walletcards.cli.common import load_settings


@click.command()
@click.option(
    "--url",
    default=None,
    help="A running walletcards (e.g. http://127.0.0.1:8000); default: in-process.",
)
def demo(url: str | None) -> None:
    """Issue a demo card: signed paid order -> card page URL + a .pkpass file."""
    from walletcards import demo as demo_module

    try:
        card_url, path = demo_module.run(load_settings(url), url)
    except demo_module.DemoError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"card page: {card_url}")
    click.echo(f"Apple pass: {path}")
