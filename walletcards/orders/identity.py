"""Who an order or a customer is, across sources: the one place their ids are spelt.

The webhook adapters and the migration import (``walletcards import customers --source``) both
build customer ids here, so an imported customer is the one the shop's next order names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

PLATFORMS = ("shopify", "woocommerce", "orders")


def shop_of(platform: str, value: str) -> str:
    """The shop as order sources name it: a Shopify shop's domain, a WooCommerce site's host,
    lower-case ("https://Demo.myshopify.com/" -> "demo.myshopify.com"); our own format
    names no shop ("")."""
    if platform == "orders":
        return ""
    text = value.strip()
    host = urlsplit(text).netloc if "://" in text else text.split("/", 1)[0]
    return host.lower()


def order_source(platform: str, shop: str) -> str:
    """``shopify:<shop>``, ``woocommerce:<shop>``, or ``orders`` (``shop`` as :func:`shop_of`)."""
    return platform if platform == "orders" else f"{platform}:{shop}"


def customer_external_id(source: str, customer_id: str) -> str:
    """A customer's id in walletcards: the shop's own id, namespaced by its order source."""
    return f"{source}:customer:{customer_id}"
