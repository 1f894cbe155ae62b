"""One entry to the three adapters: source name + headers (lower-case names) + JSON -> Delivery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walletcards.orders import shopify, signed_json, woocommerce
from walletcards.orders.events import Delivery, UnknownShop


def parse_source(
    source: str,
    headers: Mapping[str, str],
    payload: dict[str, Any],
    currency: str,
    shop: str | None,
) -> Delivery:
    """``shop``: the programme's pinned shop for Shopify and WooCommerce (canonical form)."""
    if source == "orders":
        return signed_json.parse(payload, currency)
    if shop is None:
        raise UnknownShop(f"the programme pins no {source} shop (docs/webhooks.md)")
    if source == "shopify":
        return shopify.parse(headers, payload, currency, shop)
    return woocommerce.parse(headers, payload, currency, shop)
