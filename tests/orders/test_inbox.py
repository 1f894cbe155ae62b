from __future__ import annotations

import json

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.inbox import Deliver
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import SHOP, SHOPIFY_SECRET, fixture, post_shopify
from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.models import LedgerEntry
from walletcards.orders.models import InboxDelivery


def test_inbox_lists_deliveries_and_replays_a_test_order_once_test_mode_is_on(
    client: FlaskClient, database: Database, make_program: MakeProgram
) -> None:
    post_shopify(client, "orders/paid", {**fixture("shopify_order_paid.json"), "test": True})
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    runner = CliRunner()
    waiting = runner.invoke(main, ["inbox", "list"], env=env)
    assert "\taccepted\t" in waiting.output, waiting.output
    applied = runner.invoke(main, ["inbox", "apply"], env=env)
    assert applied.exit_code == 0 and "1 deliveries taken" in applied.output, applied.output
    listed = runner.invoke(main, ["inbox", "list", "--program", "demo"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "orders/paid" in listed.output and "test order" in listed.output
    with database.transaction() as session:
        row_id = session.execute(select(InboxDelivery.id)).scalar_one()

    make_program(
        test_mode=True, webhooks={"shopify_secret": SHOPIFY_SECRET, "shopify_shop_domain": SHOP}
    )
    replayed = runner.invoke(main, ["inbox", "replay", str(row_id)], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.output)["status"] == "applied"
    again = runner.invoke(main, ["inbox", "replay", str(row_id)], env=env)
    assert json.loads(again.output)["status"] == "duplicate"
    with database.transaction() as session:
        credited = select(LedgerEntry.kind).where(LedgerEntry.kind.in_(["earn", "bonus"]))
        assert sorted(session.execute(credited).scalars()) == ["bonus", "earn"]


def test_replaying_an_unknown_delivery_is_a_clear_error(database: Database) -> None:
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    result = CliRunner().invoke(main, ["inbox", "replay", "999"], env=env)
    assert result.exit_code == 1 and "no inbox delivery 999" in result.output


def test_a_delivery_is_not_replayed_once_the_programme_pins_another_shop(
    database: Database, make_program: MakeProgram, deliver: Deliver
) -> None:
    deliver.shopify("orders/paid", {**fixture("shopify_order_paid.json"), "test": True})
    with database.transaction() as session:
        row_id = session.execute(select(InboxDelivery.id)).scalar_one()
    make_program(
        test_mode=True,
        webhooks={"shopify_secret": SHOPIFY_SECRET, "shopify_shop_domain": "new.myshopify.com"},
    )
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    result = CliRunner().invoke(main, ["inbox", "replay", str(row_id)], env=env)
    assert result.exit_code == 1 and "not the shop this programme trusts" in result.output
    with database.transaction() as session:
        assert session.execute(select(LedgerEntry)).first() is None
