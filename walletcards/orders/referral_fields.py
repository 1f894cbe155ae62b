"""Where a shop's order carries the referral code (docs/referrals.md).

- Shopify: a cart attribute (the order's ``note_attributes``, ``[{"name", "value"}]``) named
  ``ref`` or ``walletcards_ref`` — what a theme's cart form sends as ``attributes[ref]`` —
  else the ``ref`` query parameter of ``landing_site`` (the first page the buyer opened, e.g.
  ``/?ref=<code>`` after ``/r/<code>`` led them to the shop).
- WooCommerce: the order's ``meta_data`` entry with key ``walletcards_ref``.

A referral is attribution, not payment: a field of the wrong shape is ignored (the order
still earns), never an error; what is read is bounded and lower-cased.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_REF = 40  # a code (loyalty/referral_codes.py) is at most 21 characters
ATTRIBUTE_NAMES = ("ref", "walletcards_ref")
WOO_META_KEY = "walletcards_ref"
MAX_ENTRIES = 200


def _code(value: Any) -> str | None:
    if not isinstance(value, str) or not value or len(value) > MAX_REF:
        return None
    code = value.strip().lower()
    return code if code.isascii() and code.isalnum() else None


def _pairs(value: Any, name_key: str, value_key: str) -> list[tuple[Any, Any]]:
    if not isinstance(value, list):
        return []
    return [
        (item.get(name_key), item.get(value_key))
        for item in value[:MAX_ENTRIES]
        if isinstance(item, dict)
    ]


def shopify_ref(order: dict[str, Any]) -> str | None:
    for name, value in _pairs(order.get("note_attributes"), "name", "value"):
        if name in ATTRIBUTE_NAMES and _code(value):
            return _code(value)
    landing = order.get("landing_site")
    if isinstance(landing, str) and len(landing) <= 2000:
        try:
            query = parse_qs(urlsplit(landing).query, max_num_fields=50)
        except ValueError:
            return None
        for value in query.get("ref", [])[:1]:
            return _code(value)
    return None


def woocommerce_ref(order: dict[str, Any]) -> str | None:
    for key, value in _pairs(order.get("meta_data"), "key", "value"):
        if key == WOO_META_KEY and _code(value):
            return _code(value)
    return None
