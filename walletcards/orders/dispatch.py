"""One entry to the three adapters: source name + headers (lower-case names) + JSON -> Delivery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walletcards.orders import shopify, signed_json, woocommerce
from walletcards.orders.events import Delivery


def parse_source(
    source: str, headers: Mapping[str, str], payload: dict[str, Any], currency: str
) -> Delivery:
    if source == "shopify":
        return shopify.parse(headers, payload, currency)
    if source == "woocommerce":
        return woocommerce.parse(headers, payload, currency)
    return signed_json.parse(payload, currency)
