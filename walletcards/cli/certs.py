"""`walletcards certs dev`: a throwaway certificate chain for local runs."""

from __future__ import annotations

import click

from walletcards.clock import SystemClock


@click.group()
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
