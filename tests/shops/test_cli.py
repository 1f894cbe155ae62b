"""`walletcards shop connect|check` through the real CLI, against the loopback fakes (plain
http on 127.0.0.1: development settings), with the real clients `build_clients` makes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.kit.programs import MakeProgram
from tests.shops.conftest import TOKEN, WOO_KEY, WOO_SECRET
from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.models import Program

PUBLIC = "https://cards.example"
SHOPIFY_URL = f"{PUBLIC}/webhooks/demo/shopify"
WOO_URL = f"{PUBLIC}/webhooks/demo/woocommerce"


@pytest.fixture
def plain_shopify() -> Iterator[FakeShopify]:
    fake = FakeShopify(TOKEN)
    fake.start()
    yield fake
    fake.stop()
    assert fake.problems == []


@pytest.fixture
def plain_woo() -> Iterator[FakeWooCommerce]:
    fake = FakeWooCommerce(WOO_KEY, WOO_SECRET)
    fake.start()
    yield fake
    fake.stop()
    assert fake.problems == []


@pytest.fixture
def env(
    database: Database, plain_shopify: FakeShopify, plain_woo: FakeWooCommerce
) -> dict[str, str]:
    return {
        "WALLETCARDS_DATABASE_URL": database.url,
        "WALLETCARDS_DEV": "1",
        "WALLETCARDS_SECRET_KEY": "s" * 32,
        "WALLETCARDS_PUBLIC_URL": PUBLIC,
        "WALLETCARDS_SHOPIFY_API_URL": plain_shopify.url,
        "WALLETCARDS_WOOCOMMERCE_API_URL": plain_woo.url,
        "DEMO_SHOPIFY_TOKEN": TOKEN,
        "DEMO_WOO_KEY": WOO_KEY,
        "DEMO_WOO_CONSUMER_SECRET": WOO_SECRET,
        "DEMO_WOO_SECRET": "woo-webhook-secret",
    }


@pytest.fixture
def shop_program(make_program: MakeProgram) -> Program:
    return make_program(
        shopify={"admin_token": "env:DEMO_SHOPIFY_TOKEN"},
        woocommerce={
            "site_url": "https://shop.demo-coffee.example",
            "consumer_key": "env:DEMO_WOO_KEY",
            "consumer_secret": "env:DEMO_WOO_CONSUMER_SECRET",
        },
    )


def test_connect_registers_what_is_missing_once(
    env: dict[str, str],
    shop_program: Program,
    plain_shopify: FakeShopify,
    plain_woo: FakeWooCommerce,
) -> None:
    runner = CliRunner()
    check = runner.invoke(main, ["shop", "check", "--program", "demo"], env=env)
    assert check.exit_code == 1
    assert "shopify\tmissing\torders/paid" in check.output
    assert "woocommerce\tmissing\torder.updated" in check.output

    done = runner.invoke(main, ["shop", "connect", "--program", "demo"], env=env)
    assert done.exit_code == 0, done.output
    assert sorted(w["topic"] for w in plain_shopify.webhooks) == [
        "ORDERS_CANCELLED",
        "ORDERS_PAID",
        "REFUNDS_CREATE",
    ]
    assert {w["url"] for w in plain_shopify.webhooks} == {SHOPIFY_URL}
    assert sorted(w["topic"] for w in plain_woo.webhooks) == ["order.created", "order.updated"]
    assert {w["delivery_url"] for w in plain_woo.webhooks} == {WOO_URL}
    assert all(w["has_secret"] for w in plain_woo.webhooks)

    again = runner.invoke(main, ["shop", "connect", "--program", "demo"], env=env)
    assert again.exit_code == 0 and "created" not in again.output
    assert len(plain_shopify.webhooks) == 3 and len(plain_woo.webhooks) == 2

    ok = runner.invoke(main, ["shop", "check", "--program", "demo"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "missing" not in ok.output and ok.output.count("\tok\t") == 5


def test_check_names_subscriptions_pointing_elsewhere(
    env: dict[str, str], shop_program: Program, plain_woo: FakeWooCommerce
) -> None:
    runner = CliRunner()
    args = ["shop", "connect", "--program", "demo", "--platform", "woocommerce"]
    assert runner.invoke(main, args, env=env).exit_code == 0
    plain_woo.webhooks[0]["delivery_url"] = "https://old.example/hook"
    check = runner.invoke(
        main, ["shop", "check", "--program", "demo", "--platform", "woocommerce"], env=env
    )
    assert check.exit_code == 1
    assert "woocommerce\telsewhere\torder.created\thttps://old.example/hook" in check.output
    assert f"woocommerce\tmissing\torder.created\t{WOO_URL}" in check.output


def test_a_programme_without_a_shop_table_is_told(
    env: dict[str, str], make_program: MakeProgram
) -> None:
    make_program()
    done = CliRunner().invoke(main, ["shop", "check", "--program", "demo"], env=env)
    assert done.exit_code == 1 and "no [shopify] or [woocommerce]" in done.output
