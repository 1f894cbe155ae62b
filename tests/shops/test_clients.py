"""The shops' admin APIs as an outside system: the programme tables, the settings' overrides,
``Clients.shops`` (the real clients cached per credentials, the in-memory shops)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.memory import memory_clients
from tests.kit.programs import demo_document
from tests.shops.conftest import NOW
from walletcards.admin.settings import HIDDEN, masked
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import document_hash
from walletcards.settings import Settings
from walletcards.shops.admin import ShopUnavailable
from walletcards.shops.clients import ShopClients
from walletcards.shops.shopify_admin import ShopifyAdmin
from walletcards.shops.woocommerce_admin import WooCommerceAdmin

SHOPIFY = {"admin_token": "env:DEMO_SHOPIFY_TOKEN"}
WOO = {
    "site_url": "https://shop.demo-coffee.example",
    "consumer_key": "env:DEMO_WOO_KEY",
    "consumer_secret": "env:DEMO_WOO_CONSUMER_SECRET",
}


def problems(**overrides: Any) -> list[tuple[str, str]]:
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(**overrides))
    return caught.value.problems


def programme(**overrides: Any) -> Program:
    """A programme row as read back (not stored: ``program_config`` needs only these)."""
    document = demo_document(**overrides)
    return Program(slug="demo", config=document, config_hash=document_hash(document))


def settings(**values: Any) -> Settings:
    return Settings("sqlite://", "https://cards.example", secret_key=None, **values)  # type: ignore[arg-type]


def test_tables_are_typed_with_defaults() -> None:
    config = parse_program(demo_document(shopify=SHOPIFY, woocommerce=WOO))
    assert config.shopify is not None and config.woocommerce is not None
    assert config.shopify.shop_domain == "demo-coffee-roasters.myshopify.com"
    assert config.shopify.api_version == "2026-10"
    assert config.shopify.admin_token.variable == "DEMO_SHOPIFY_TOKEN"
    assert config.woocommerce.site_url == "https://shop.demo-coffee.example"
    assert config.woocommerce.individual_use is True
    assert "DEMO_WOO_KEY" in repr(config.woocommerce)
    plain = parse_program(demo_document())
    assert plain.shopify is None and plain.woocommerce is None


def test_problems_name_their_fields() -> None:
    found = problems(
        shopify={"api_version": "2026-11", "admin_tokn": "x"},
        woocommerce={"site_url": "shop.example", "consumer_key": "env:lower", "x": 1},
    )
    fields = {where for where, _ in found}
    assert {
        "shopify.admin_token",
        "shopify.api_version",
        "shopify.admin_tokn",
        "woocommerce.site_url",
        "woocommerce.consumer_key",
        "woocommerce.consumer_secret",
        "woocommerce.x",
    } <= fields


def test_shopify_needs_the_pinned_shop_and_woocommerce_the_pinned_site() -> None:
    webhooks = {"orders_secret": "env:DEMO_ORDERS_SECRET"}
    assert ("webhooks.shopify_shop_domain") in {
        where for where, _ in problems(shopify=SHOPIFY, webhooks=webhooks)
    }
    other = {**WOO, "site_url": "https://another.example"}
    assert [where for where, _ in problems(woocommerce=other)] == ["woocommerce.site_url"]


def test_literal_tokens_and_keys_are_hidden_over_the_api() -> None:
    document = demo_document(
        shopify={"admin_token": "shpat_literal"},
        woocommerce={**WOO, "consumer_key": "ck_literal", "consumer_secret": "cs_literal"},
    )
    shown = masked(document)
    assert shown["shopify"]["admin_token"] == HIDDEN
    assert shown["woocommerce"]["consumer_key"] == HIDDEN
    assert shown["woocommerce"]["consumer_secret"] == HIDDEN
    assert shown["woocommerce"]["site_url"] == WOO["site_url"]


def test_settings_read_the_base_url_overrides() -> None:
    env = {
        "WALLETCARDS_DEV": "1",
        "WALLETCARDS_SECRET_KEY": "s" * 32,
        "WALLETCARDS_SHOPIFY_API_URL": "http://127.0.0.1:9/",
        "WALLETCARDS_WOOCOMMERCE_API_URL": "http://127.0.0.1:10",
    }
    read = Settings.from_env(env)
    assert read.shopify_api_url == "http://127.0.0.1:9"
    assert read.woocommerce_api_url == "http://127.0.0.1:10"
    unset = Settings.from_env({"WALLETCARDS_DEV": "1", "WALLETCARDS_SECRET_KEY": "s" * 32})
    assert unset.shopify_api_url is None and unset.woocommerce_api_url is None


def test_real_clients_are_made_once_per_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", "shpat_one")
    monkeypatch.setenv("DEMO_WOO_KEY", "ck_one")
    monkeypatch.setenv("DEMO_WOO_CONSUMER_SECRET", "cs_one")
    clients = build_clients(settings(), FixedClock(NOW))
    with clients:
        both = programme(shopify=SHOPIFY, woocommerce=WOO)
        shopify = clients.shops.for_program(both)
        assert isinstance(shopify, ShopifyAdmin)
        assert shopify.graphql.endpoint.startswith("https://demo-coffee-roasters.myshopify.com/")
        assert clients.shops.for_program(both, "shopify") is shopify
        woo = clients.shops.for_program(both, "woocommerce")
        assert isinstance(woo, WooCommerceAdmin)
        assert woo.api == "https://shop.demo-coffee.example/wp-json/wc/v3"
        assert clients.shops.for_program(programme(woocommerce=WOO)) is woo
        monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", "shpat_two")  # a new token: a new client
        assert clients.shops.for_program(both) is not shopify
        assert clients.shops.for_program(programme()) is None
        assert clients.shops.for_program(programme(shopify=SHOPIFY), "woocommerce") is None


def test_an_unset_credential_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_SHOPIFY_TOKEN", raising=False)
    shops = ShopClients(settings())
    with pytest.raises(ShopUnavailable, match="DEMO_SHOPIFY_TOKEN"):
        shops.for_program(programme(shopify=SHOPIFY))
    shops.close()


def test_overrides_point_every_programme_at_one_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", "shpat_one")
    monkeypatch.setenv("DEMO_WOO_KEY", "ck_one")
    monkeypatch.setenv("DEMO_WOO_CONSUMER_SECRET", "cs_one")
    shops = ShopClients(
        settings(
            dev=True,
            shopify_api_url="http://127.0.0.1:9",
            woocommerce_api_url="http://127.0.0.1:10",
        )
    )
    both = programme(shopify=SHOPIFY, woocommerce=WOO)
    shopify = shops.for_program(both, "shopify")
    woo = shops.for_program(both, "woocommerce")
    assert isinstance(shopify, ShopifyAdmin) and isinstance(woo, WooCommerceAdmin)
    assert shopify.graphql.endpoint == "http://127.0.0.1:9/admin/api/2026-10/graphql.json"
    assert woo.api == "http://127.0.0.1:10/wp-json/wc/v3"
    shops.close()


def test_memory_shops_through_clients() -> None:
    memory = memory_clients(FixedClock(NOW))
    assert memory.clients.shops.for_program(programme()) is None
    shop = memory.shops.add("demo", "woocommerce")
    assert memory.clients.shops.for_program(programme()) is shop
    assert memory.clients.shops.for_program(programme(), "woocommerce") is shop
    assert memory.clients.shops.for_program(programme(), "shopify") is None
