"""Who an order or a customer is, across sources: the one place their ids are spelt.

The webhook adapters and the migration import (``walletcards import customers --source``) both
build customer ids here from the programme's pinned shop (``[webhooks]``, see
loyalty/config_webhooks.py), so an imported customer is the one the shop's next order names.
"""

from __future__ import annotations

import re

MAX_DOMAIN = 253  # a DNS name (RFC 1035)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")  # a lower-case DNS name, for the shop pins


def order_source(platform: str, shop: str) -> str:
    """``<platform>:<shop's host>`` (``shopify:<shop>``, ``woocommerce:<site host>``), or the
    bare platform (``orders``) for a source that names no shop (``shop`` canonical, as the
    source's ``canonical_shop``; a WooCommerce site's path is not part of its source)."""
    return f"{platform}:{shop.partition('/')[0]}" if shop else platform


def customer_external_id(source: str, customer_id: str) -> str:
    """A customer's id in walletcards: the shop's own id, namespaced by its order source."""
    return f"{source}:customer:{customer_id}"
