"""The [webhooks] table: a Shopify or WooCommerce secret needs the shop it trusts pinned, in a
form deliveries are compared by (case, scheme and trailing slash do not matter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.kit.clone import DEMO
from tests.kit.programs import demo_document, demo_file
from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfigError, load_program_file, parse_program
from walletcards.loyalty.models import Program
from walletcards.orders.shopify import shopify_domain
from walletcards.orders.woocommerce import site_url


def problems(webhooks: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ProgramConfigError) as raised:
        parse_program(demo_document(webhooks=webhooks))
    return dict(raised.value.problems)


def test_the_demo_pins_its_shops() -> None:
    table = load_program_file(DEMO).document["webhooks"]
    assert shopify_domain(table["shopify_shop_domain"]) == "demo-coffee-roasters.myshopify.com"
    assert site_url(table["woocommerce_site_url"]) == "shop.demo-coffee.example"


def test_a_shop_secret_without_its_pinned_shop_is_refused_naming_the_field() -> None:
    found = problems({"shopify_secret": "s", "woocommerce_secret": "w", "orders_secret": "o"})
    assert set(found) == {"webhooks.shopify_shop_domain", "webhooks.woocommerce_site_url"}
    assert "required with shopify_secret" in found["webhooks.shopify_shop_domain"]


def test_our_own_format_needs_no_pinned_shop() -> None:
    assert parse_program(demo_document(webhooks={"orders_secret": "o"})).slug == "demo"


def test_a_stored_document_without_pins_still_loads() -> None:
    legacy = demo_document(webhooks={"shopify_secret": "s", "woocommerce_secret": "w"})
    assert parse_program(legacy, stored=True).slug == "demo"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("shopify_shop_domain", "shop.example.com"),  # a custom domain, not the myshopify one
        ("shopify_shop_domain", "demo .myshopify.com"),
        ("shopify_shop_domain", "-demo.myshopify.com"),
        ("shopify_shop_domain", ".".join(["a" * 63] * 4) + ".myshopify.com"),  # over 253
        ("shopify_shop_domain", 42),
        ("woocommerce_site_url", "ftp://shop.example.com"),
        ("woocommerce_site_url", "https://shop.example.com/?p=1"),
        ("woocommerce_site_url", "https://user@shop.example.com"),
        ("woocommerce_site_url", "https://shop.example.com:99999"),
        ("woocommerce_site_url", "https://shop\x00.example.com"),
        ("woocommerce_site_url", "https://" + "s" * 250 + ".com"),
        ("woocommerce_site_url", "https://bücher.example"),
    ],
)
def test_a_malformed_pin_is_refused_naming_the_field(key: str, value: Any) -> None:
    found = problems({"shopify_secret": "s", "woocommerce_secret": "w", key: value})
    assert f"webhooks.{key}" in found


@pytest.mark.parametrize(
    "value",
    [
        "demo.myshopify.com",
        "Demo.MyShopify.com",
        "https://demo.myshopify.com/",
        " demo.myshopify.com",
    ],
)
def test_shopify_domains_are_normalised(value: str) -> None:
    assert shopify_domain(value) == "demo.myshopify.com"


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("https://shop.example.com/", "shop.example.com"),
        ("HTTP://Shop.Example.COM", "shop.example.com"),
        ("shop.example.com", "shop.example.com"),
        ("https://shop.example.com:443", "shop.example.com"),
        ("https://shop.example.com:8443/", "shop.example.com:8443"),
        ("https://example.com/Shop/", "example.com/shop"),
    ],
)
def test_site_urls_are_normalised(value: str, canonical: str) -> None:
    assert site_url(value) == canonical


def test_program_apply_refuses_a_file_with_a_secret_but_no_pinned_shop(
    tmp_path: Path, database: Database
) -> None:
    text = (
        demo_file()
        .read_text()
        .replace('shopify_shop_domain = "demo-coffee-roasters.myshopify.com"', "")
    )
    assert text != demo_file().read_text()
    path = tmp_path / "unpinned.toml"
    path.write_text(text)
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    result = CliRunner().invoke(main, ["program", "apply", str(path)], env=env)
    assert result.exit_code == 1
    assert "webhooks.shopify_shop_domain: is required with shopify_secret" in result.output
    with database.transaction() as session:
        assert session.execute(select(Program)).first() is None
