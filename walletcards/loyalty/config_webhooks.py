"""The programme file's ``[webhooks]`` table: signing secrets and the one shop each source trusts.

Shopify and WooCommerce sign only the body; the headers naming the shop (X-Shopify-Shop-Domain,
X-WC-Webhook-Source) are not signed. So a programme pins its shop (``shopify_shop_domain``,
``woocommerce_site_url``): a delivery naming another shop is refused, and an order's identity
(idempotency keys, customer ids, ``orders.source``) is built from the pin, never from a header.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_tables import ProgramSecret, WebhookSource, WebhooksTable

SECRET_KEYS = tuple(
    f"{source}_{kind}"
    for source in ("shopify", "woocommerce", "orders")
    for kind in ("secret", "previous_secret")
)
# source -> the key pinning its shop (our own signed format names no shop)
SHOP_PINS = {"shopify": "shopify_shop_domain", "woocommerce": "woocommerce_site_url"}
MAX_DOMAIN = 253  # a DNS name (RFC 1035)
MAX_SITE_URL = 255
# The longest pinned shop in canonical form: a host, a port and (WooCommerce) a path.
MAX_SHOP = MAX_SITE_URL
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_SHOPIFY = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.myshopify\.com")
_DEFAULT_PORTS = (80, 443)


def shopify_domain(value: str) -> str:
    """``"https://Demo.myshopify.com/"`` -> ``"demo.myshopify.com"``; ValueError otherwise."""
    host = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if len(host) > MAX_DOMAIN or not _SHOPIFY.fullmatch(host):
        raise ValueError(
            "the shop's myshopify.com domain as in X-Shopify-Shop-Domain, e.g. "
            '"demo.myshopify.com" (not a custom domain)'
        )
    return host


def site_url(value: str) -> str:
    """A WooCommerce site as ``host[:port][/path]``, lower-case, without scheme or trailing
    slash (WooCommerce names it by ``home_url``, http or https alike); ValueError otherwise."""
    raw = value.strip()
    problem = 'the site\'s address as in X-WC-Webhook-Source, e.g. "https://shop.example.com"'
    if not raw or len(raw) > MAX_SITE_URL or not raw.isascii() or not raw.isprintable():
        raise ValueError(problem)
    if "://" not in raw:
        raw = f"https://{raw}"
    try:
        parts = urlsplit(raw.lower())
        port = parts.port
    except ValueError as exc:
        raise ValueError(problem) from exc
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or len(host) > MAX_DOMAIN
        or not _HOST.fullmatch(host)
    ):
        raise ValueError(problem)
    netloc = host if port is None or port in _DEFAULT_PORTS else f"{host}:{port}"
    return netloc + parts.path.rstrip("/")


def canonical_shop(source: str, value: str) -> str:
    """The pinned shop of ``source`` in the form deliveries are compared (and identified) by."""
    return shopify_domain(value) if source == "shopify" else site_url(value)


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
        elif require_pins and reader.raw(f"{source}_secret"):
            reader.fail(
                key,
                f"is required with {source}_secret: the shop's deliveries are signed, "
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
            source: WebhookSource(
                ProgramSecret.of(table.get(f"{source}_secret")),
                ProgramSecret.of(table.get(f"{source}_previous_secret")),
                shop(source),
            )
            for source in ("shopify", "woocommerce", "orders")
        }
    )
