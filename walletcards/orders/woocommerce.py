"""WooCommerce: order.created / order.updated (REST v3 order bodies).

WooCommerce has no "paid" topic: an order is paid when its status is processing or completed
and ``date_paid`` is set. The body is built at delivery time, so one delivery may carry a
refund made since the last one: ``refunds[]`` are diffed by refund id (each applied once, pro
rata to the order's total since WooCommerce lists no refunded lines there). Status cancelled
or refunded reverses whatever remains. WooCommerce never retries (FACTS: Shops).

WooCommerce signs the body only: X-WC-Webhook-Source must be the programme's pinned site (the
order's identity is built from the pin), and every effect is read from the signed body; the
unsigned topic only decides between applying an order body and ignoring the delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.orders.events import (
    CustomerInfo,
    Delivery,
    OrderEvent,
    PayloadError,
    RefundInfo,
)
from walletcards.orders.hmac_source import PinnedHmacSource, check_pinned
from walletcards.orders.identity import HOST, MAX_DOMAIN, customer_external_id, order_source
from walletcards.orders.payload import (
    MAX_DELIVERY_ID,
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_PHONE,
    MAX_TOPIC,
    bounded,
    email,
    header,
    ident,
    items,
    label,
    minor,
    obj,
    person_name,
    shop_codes,
    text,
    timestamp,
)
from walletcards.orders.referral_fields import woocommerce_ref

NAME = "woocommerce"
SIGNATURE_HEADER = "x-wc-webhook-signature"
PIN_KEY = "woocommerce_site_url"
TOPICS = ("order.created", "order.updated")
PAID_STATUSES = ("processing", "completed")
MAX_SITE_URL = 255  # WordPress's Site Address; also inbox_deliveries.shop
_DEFAULT_PORTS = (80, 443)


class WooCommerce(PinnedHmacSource):
    """The ``woocommerce`` source (see ``walletcards.orders.sources.Source``)."""

    name = NAME
    secret_keys = ("woocommerce_secret", "woocommerce_previous_secret")
    pin_key = PIN_KEY
    signature_header = SIGNATURE_HEADER

    def canonical_shop(self, value: str) -> str:
        return site_url(value)

    def ping(self, body: bytes) -> str | None:
        return "WooCommerce webhook ping" if is_ping(body) else None

    def read(
        self, headers: Mapping[str, str], payload: dict[str, Any], currency: str, shop: str
    ) -> Delivery:
        return read(headers, payload, currency, shop)

    def replay_headers(self, kept: Delivery) -> dict[str, str]:
        return {
            "x-wc-webhook-topic": kept.topic,
            "x-wc-webhook-source": kept.shop,
            "x-wc-webhook-delivery-id": kept.delivery_id,
            "x-wc-webhook-id": kept.event_id or "",
        }


def is_ping(body: bytes) -> bool:
    """The form-encoded ping WooCommerce sends when a webhook is created: ``webhook_id=N``."""
    name, _, value = body.decode("latin-1").partition("=")
    return name == "webhook_id" and value.strip().isdigit()


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
        or not HOST.fullmatch(host)
    ):
        raise ValueError(problem)
    netloc = host if port is None or port in _DEFAULT_PORTS else f"{host}:{port}"
    return netloc + parts.path.rstrip("/")


def _customer(order: dict[str, Any], source: str) -> CustomerInfo:
    billing = obj(order, "billing", "", required=False)
    customer_id = text(order, "customer_id", "", limit=MAX_ID)
    first, last = (
        text(billing, key, "billing.", limit=MAX_NAME) for key in ("first_name", "last_name")
    )
    return CustomerInfo(
        external_id=(
            customer_external_id(source, customer_id) if customer_id not in (None, "0") else None
        ),
        email=email(text(billing, "email", "billing.", limit=MAX_EMAIL), "billing.email"),
        phone=text(billing, "phone", "billing.", limit=MAX_PHONE),
        name=person_name(first, last, "billing.first_name"),
    )


def _facts(order: dict[str, Any], source: str, currency: str) -> OrderFacts:
    lines = []
    for i, line in enumerate(items(order, "line_items", "")):
        where = f"line_items[{i}]."
        lines.append(
            OrderLine(
                minor(line.get("total", "0"), currency, f"{where}total"),
                sku=label(line, "sku", where),
            )
        )
    paid_at = timestamp(order.get("date_paid_gmt") or order.get("date_paid"), "date_paid_gmt")
    assert paid_at is not None  # callers check date_paid first
    facts = OrderFacts(
        source,
        ident(order, "id", ""),
        currency,
        paid_at,
        tuple(lines),
        minor(order.get("shipping_total", "0"), currency, "shipping_total"),
        minor(order.get("total_tax", "0"), currency, "total_tax"),
    )
    bounded(facts.total_minor, "line_items")
    return facts


def read(headers: Mapping[str, str], payload: dict[str, Any], currency: str, site: str) -> Delivery:
    """Turn one verified delivery for the programme pinning ``site`` (canonical
    ``host[:port][/path]``) into order events, or an ignored delivery."""
    topic = header(headers, "x-wc-webhook-topic", MAX_TOPIC)
    origin = header(headers, "x-wc-webhook-source", MAX_DELIVERY_ID)
    delivery_id = header(headers, "x-wc-webhook-delivery-id", MAX_DELIVERY_ID)
    if not topic or not origin or not delivery_id:
        raise PayloadError("headers", "X-WC-Webhook-Topic, -Source and -Delivery-ID are required")
    check_pinned(origin, site, site_url, "X-WC-Webhook-Source", "site", PIN_KEY)
    source = order_source(NAME, site)
    base = Delivery(
        source=NAME,
        shop=site,
        topic=topic,
        delivery_id=delivery_id,
        event_id=header(headers, "x-wc-webhook-id", MAX_DELIVERY_ID) or None,
        triggered_at=None,
    )
    if topic not in TOPICS:
        return replace(base, ignored_reason=f"topic {topic!r} is not one walletcards applies")
    if not isinstance(payload.get("line_items"), list):
        raise PayloadError("line_items", f"not an order: not an {topic} body")
    order_currency = text(payload, "currency", "") or currency
    if order_currency != currency:
        raise PayloadError("currency", f"{order_currency} is not the programme's {currency}")
    order_id = ident(payload, "id", "")
    status = text(payload, "status", "", required=True, limit=40)
    customer = _customer(payload, source)
    events: list[OrderEvent] = []
    paid = payload.get("date_paid_gmt") or payload.get("date_paid")
    if status in PAID_STATUSES and paid:
        facts = _facts(payload, source, currency)
        codes = shop_codes(payload, "coupon_lines", "")
        referral = woocommerce_ref(payload)
        events.append(
            OrderEvent(
                "paid", source, order_id, customer, facts=facts, codes=codes, referral=referral
            )
        )
    refunds = []
    for i, refund in enumerate(items(payload, "refunds", "")):
        amount = -minor(refund.get("total", "0"), currency, f"refunds[{i}].total", negative=True)
        if amount <= 0:
            raise PayloadError(f"refunds[{i}].total", "a refund's total is negative in WooCommerce")
        refunds.append(
            RefundInfo(
                key=f"{source}:refund:{ident(refund, 'id', f'refunds[{i}].')}", amount_minor=amount
            )
        )
    if status == "cancelled":
        events.append(OrderEvent("cancel", source, order_id, customer, refunds=tuple(refunds)))
    elif status == "refunded":
        final = RefundInfo(
            key=f"{source}:order:{order_id}:refunded",
            amount_minor=minor(payload.get("total", "0"), currency, "total"),
        )
        events.append(OrderEvent("refund", source, order_id, customer, refunds=(*refunds, final)))
    elif refunds:
        events.append(OrderEvent("refund", source, order_id, customer, refunds=tuple(refunds)))
    if not events:
        return replace(base, ignored_reason=f"order status {status!r} is neither paid nor reversed")
    return replace(base, events=tuple(events))
