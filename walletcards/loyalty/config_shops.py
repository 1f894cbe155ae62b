"""The programme file's shop admin tables, typed: ``[shopify]`` and ``[woocommerce]``.

They give walletcards the shop's own admin API (walletcards/shops/): codes for points spent
online, the webhook subscriptions ``walletcards shop connect`` makes, the orders the
reconciliation job reads back. The shop they reach is the one ``[webhooks]`` pins: a Shopify
table needs ``[webhooks] shopify_shop_domain`` (the Admin API lives at that domain), and a
WooCommerce ``site_url`` must be the pinned ``woocommerce_site_url`` when one is given, so the
orders read back are those of the shop whose deliveries the programme trusts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_tables import ProgramSecret, WebhooksTable
from walletcards.orders.woocommerce import site_url as canonical_site

Problems = list[tuple[str, str]]
SHOPIFY_API_VERSION = "2026-10"  # walletcards.shops.shopify_admin.DEFAULT_VERSION
_VERSION = re.compile(r"\d{4}-(01|04|07|10)|unstable")
_ENV = re.compile(r"env:[A-Z_][A-Z0-9_]*")


@dataclass(frozen=True)
class ShopifyTable:
    """A Shopify custom app's Admin API access for the pinned shop."""

    shop_domain: str  # [webhooks] shopify_shop_domain, canonical (demo.myshopify.com)
    admin_token: ProgramSecret
    api_version: str = SHOPIFY_API_VERSION


@dataclass(frozen=True)
class WooCommerceTable:
    """A WooCommerce REST API key (read/write) for the site."""

    site_url: str  # as written, with its scheme (https outside development)
    consumer_key: ProgramSecret
    consumer_secret: ProgramSecret
    individual_use: bool = True  # a points coupon is not combined with other coupons


def _secret(reader: TableReader, key: str) -> ProgramSecret | None:
    value = reader.string(key, required=True, max_length=500)
    if value and value.startswith("env:") and not _ENV.fullmatch(value):
        reader.fail(key, 'an environment reference looks like "env:NAME_IN_CAPITALS"')
        return None
    return ProgramSecret.of(value)


def read_shopify(data: Any, webhooks: WebhooksTable, problems: Problems) -> ShopifyTable | None:
    if data is None:
        return None
    before = len(problems)
    reader = TableReader(data, "shopify", problems)
    token = _secret(reader, "admin_token")
    version = reader.string("api_version", SHOPIFY_API_VERSION) or SHOPIFY_API_VERSION
    if not _VERSION.fullmatch(version):
        reader.fail("api_version", 'a Shopify API version such as "2026-10" (or "unstable")')
    shop = webhooks.source("shopify").shop
    if shop is None:
        problems.append(
            (
                "webhooks.shopify_shop_domain",
                "is required with [shopify]: the Admin API is reached at the shop's domain",
            )
        )
    reader.finish()
    if len(problems) > before or token is None or shop is None:
        return None
    return ShopifyTable(shop, token, version)


def read_woocommerce(
    data: Any, webhooks: WebhooksTable, problems: Problems
) -> WooCommerceTable | None:
    if data is None:
        return None
    before = len(problems)
    reader = TableReader(data, "woocommerce", problems)
    site = reader.string("site_url", required=True, max_length=255) or ""
    if site and not site.startswith(("https://", "http://")):
        reader.fail("site_url", 'the site\'s address with its scheme, e.g. "https://shop.example"')
    elif site:
        pinned = webhooks.source("woocommerce").shop
        try:
            same = pinned is None or canonical_site(site) == pinned
        except ValueError as exc:
            reader.fail("site_url", str(exc))
        else:
            if not same:
                reader.fail("site_url", f"is not the pinned webhooks.woocommerce_site_url {pinned}")
    key, secret = _secret(reader, "consumer_key"), _secret(reader, "consumer_secret")
    individual_use = reader.boolean("individual_use", True)
    reader.finish()
    if len(problems) > before or key is None or secret is None:
        return None
    return WooCommerceTable(site.rstrip("/"), key, secret, individual_use)
