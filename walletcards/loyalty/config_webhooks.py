"""The programme file's ``[webhooks]`` table: signing secrets and the one shop each source trusts.

Shopify and WooCommerce sign only the body; the headers naming the shop (X-Shopify-Shop-Domain,
X-WC-Webhook-Source) are not signed. So a programme pins its shop (``shopify_shop_domain``,
``woocommerce_site_url``): a delivery naming another shop is refused, and an order's identity
(idempotency keys, customer ids, ``orders.source``) is built from the pin, never from a header.
Each source names its own keys and canonical shop form (``walletcards.orders.sources``).
"""

from __future__ import annotations

import re
from typing import Any

from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_tables import ProgramSecret, WebhookSource, WebhooksTable
from walletcards.orders.sources import SOURCES

SECRET_KEYS = tuple(key for source in SOURCES.values() for key in source.secret_keys)
# source -> the key pinning its shop (our own signed format names no shop)
SHOP_PINS = {name: source.pin_key for name, source in SOURCES.items() if source.pin_key}


def canonical_shop(source: str, value: str) -> str:
    """The pinned shop of ``source`` in the form deliveries are compared (and identified) by."""
    return SOURCES[source].canonical_shop(value)


def pinned_shop(table: dict[str, Any], source: str) -> str | None:
    """The canonical shop a stored ``[webhooks]`` table pins for ``source``, if any."""
    value = table.get(SHOP_PINS.get(source, ""))
    return canonical_shop(source, value) if isinstance(value, str) and value.strip() else None


def check_webhooks(
    data: Any, problems: list[tuple[str, str]], *, require_pins: bool
) -> WebhooksTable:
    """Validate ``[webhooks]``. ``require_pins``: a Shopify or WooCommerce secret without its
    pinned shop is an error (every file applied from now on; documents stored before the pins
    existed still load, and their unpinned sources refuse deliveries)."""
    if data is None:
        return WebhooksTable()
    reader = TableReader(data, "webhooks", problems)
    for key in SECRET_KEYS:
        value = reader.string(key)
        if value and value.startswith("env:") and not re.fullmatch(r"env:[A-Z_][A-Z0-9_]*", value):
            reader.fail(key, 'an environment reference looks like "env:NAME_IN_CAPITALS"')
    for source, key in SHOP_PINS.items():
        value = reader.string(key)
        if value:
            try:
                canonical_shop(source, value)
            except ValueError as exc:
                reader.fail(key, str(exc))
        elif require_pins and reader.raw(secret := SOURCES[source].secret_keys[0]):
            reader.fail(
                key,
                f"is required with {secret}: the shop's deliveries are signed, "
                "but the header naming the shop is not (see docs/webhooks.md)",
            )
    reader.finish()
    return webhooks_table(reader.data)


def webhooks_table(table: dict[str, Any]) -> WebhooksTable:
    """The typed ``[webhooks]`` (a value the check refused is left out: the file is refused)."""

    def shop(source: str) -> str | None:
        try:
            return pinned_shop(table, source)
        except ValueError:
            return None

    return WebhooksTable(
        {
            name: WebhookSource(
                ProgramSecret.of(table.get(source.secret_keys[0])),
                ProgramSecret.of(table.get(source.secret_keys[1])),
                shop(name),
            )
            for name, source in SOURCES.items()
        }
    )
