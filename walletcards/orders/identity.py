"""Who an order or a customer is, across sources: the one place their ids are spelt.

The webhook adapters and the migration import (``walletcards import customers --source``) both
build customer ids here from the programme's pinned shop (``[webhooks]``, see
loyalty/config_webhooks.py), so an imported customer is the one the shop's next order names.
"""

from __future__ import annotations

from walletcards.loyalty.config_webhooks import canonical_shop

PLATFORMS = ("shopify", "woocommerce", "orders")


def shop_of(platform: str, value: str) -> str:
    """The shop in the canonical form the programme pins it (config_webhooks.canonical_shop):
    "https://Demo.myshopify.com/" -> "demo.myshopify.com"; our own format names no shop ("").
    ValueError when ``value`` is not a shop of ``platform``."""
    if platform == "orders":
        return ""
    return canonical_shop(platform, value)


def order_source(platform: str, shop: str) -> str:
    """``shopify:<shop>``, ``woocommerce:<site host>``, or ``orders`` (``shop`` canonical, as
    :func:`shop_of`; a WooCommerce site's path is not part of its source)."""
    return platform if platform == "orders" else f"{platform}:{shop.partition('/')[0]}"


def customer_external_id(source: str, customer_id: str) -> str:
    """A customer's id in walletcards: the shop's own id, namespaced by its order source."""
    return f"{source}:customer:{customer_id}"
