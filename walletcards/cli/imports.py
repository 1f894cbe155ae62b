"""`walletcards import customers`: customers with opening points from a CSV file."""

from __future__ import annotations

import sys

import click

from walletcards.cli.common import open_database
from walletcards.clock import SystemClock


@click.group(name="import")
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
        with open_database() as database, database.transaction() as session:
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
