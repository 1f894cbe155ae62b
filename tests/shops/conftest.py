"""Shop admin test kit: the loopback fakes over TLS (one test CA per session) and the real
clients pointed at them, with a frozen clock and a sleep that only records."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.tls import loopback_server_cert
from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.kit.web import MakeSettings
from walletcards.clients import Clients, build_clients
from walletcards.clock import FixedClock
from walletcards.shops.clients import ShopClients
from walletcards.shops.shopify_admin import ShopifyAdmin
from walletcards.shops.woocommerce_admin import WooCommerceAdmin

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOKEN = "shpat_0123456789abcdef0123456789abcdef"
WOO_KEY = "ck_0123456789abcdef0123456789abcdef01234567"
WOO_SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"
SHOP = "demo-coffee-roasters.myshopify.com"


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return loopback_server_cert(tmp_path_factory.mktemp("shops-tls"))


@pytest.fixture(scope="session")
def trust(tls: tuple[Path, Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls[0]))


@pytest.fixture
def shop_clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def fake_shopify(tls: tuple[Path, Path, Path]) -> Iterator[FakeShopify]:
    fake = FakeShopify(TOKEN, server_cert=str(tls[1]), server_key=str(tls[2]))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(params=["2026-10", "2025-01"])
def shopify_version(request: pytest.FixtureRequest) -> str:
    """Both shapes: the pinned version (context/uri) and the schema-checked 2025-01 one."""
    version: str = request.param
    return version


@pytest.fixture
def shopify(
    fake_shopify: FakeShopify,
    trust: ssl.SSLContext,
    shop_clock: FixedClock,
    slept: list[float],
    shopify_version: str,
) -> Iterator[ShopifyAdmin]:
    client = ShopifyAdmin(
        SHOP,
        TOKEN,
        version=shopify_version,
        base_url=fake_shopify.url,
        clock=shop_clock,
        sleep=slept.append,
        verify=trust,
    )
    yield client
    client.close()
    assert fake_shopify.problems == []


@pytest.fixture
def fake_woo(tls: tuple[Path, Path, Path]) -> Iterator[FakeWooCommerce]:
    fake = FakeWooCommerce(WOO_KEY, WOO_SECRET, server_cert=str(tls[1]), server_key=str(tls[2]))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def woo(
    fake_woo: FakeWooCommerce, trust: ssl.SSLContext, shop_clock: FixedClock
) -> Iterator[WooCommerceAdmin]:
    client = WooCommerceAdmin(fake_woo.url, WOO_KEY, WOO_SECRET, clock=shop_clock, verify=trust)
    yield client
    client.close()
    assert fake_woo.problems == []


@pytest.fixture
def shop_clients(
    make_settings: MakeSettings,
    clock: FixedClock,
    fake_shopify: FakeShopify,
    fake_woo: FakeWooCommerce,
    trust: ssl.SSLContext,
) -> Iterator[Clients]:
    """The app's real clients with the shop admin clients pointed at the loopback fakes (a
    test module that drives the app through the shops uses them as its ``clients``)."""
    settings = make_settings(shopify_api_url=fake_shopify.url, woocommerce_api_url=fake_woo.url)
    made = replace(build_clients(settings, clock), shops=ShopClients(settings, clock, verify=trust))
    yield made
    made.close()
    assert fake_shopify.problems == [] and fake_woo.problems == []
