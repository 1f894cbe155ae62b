"""Shopify: orders/paid, orders/create (only when already paid), orders/cancelled, refunds/create.

Shopify signs the body only (``X-Shopify-Hmac-Sha256``, base64 HMAC-SHA256): the topic and shop
headers are not signed. So the shop header must be the programme's pinned shop (the order's
identity is built from the pin), and the topic must agree with the signed body
(docs/webhooks.md, "What is signed"). What the bodies say is read in ``shopify_body.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from walletcards.orders.events import (
    CustomerInfo,
    Delivery,
    OrderEvent,
    PayloadError,
)
from walletcards.orders.hmac_source import PinnedHmacSource, check_pinned
from walletcards.orders.identity import HOST, MAX_DOMAIN, order_source
from walletcards.orders.payload import (
    MAX_DELIVERY_ID,
    MAX_TOPIC,
    header,
    ident,
    items,
    shop_codes,
    text,
    timestamp,
)
from walletcards.orders.referral_fields import shopify_ref
from walletcards.orders.shopify_body import customer_of, order_facts, refund_info

NAME = "shopify"
SIGNATURE_HEADER = "x-shopify-hmac-sha256"  # header names are matched lower-cased
PIN_KEY = "shopify_shop_domain"
PAID_TOPICS = ("orders/paid", "orders/create")
# financial_status of an order Shopify reports as paid (orders/paid is sent once payment is
# captured; its retries carry the original body, so a later refund never shows up in them)
PAID_STATUSES = ("paid", "partially_paid")
_MYSHOPIFY = re.compile(rf"{HOST.pattern}\.myshopify\.com")


class Shopify(PinnedHmacSource):
    """The ``shopify`` source (see ``walletcards.orders.sources.Source``); Shopify sends no
    set-up ping."""

    name = NAME
    secret_keys = ("shopify_secret", "shopify_previous_secret")
    pin_key = PIN_KEY
    signature_header = SIGNATURE_HEADER

    def canonical_shop(self, value: str) -> str:
        return shopify_domain(value)

    def read(
        self, headers: Mapping[str, str], payload: dict[str, Any], currency: str, shop: str
    ) -> Delivery:
        return read(headers, payload, currency, shop)

    def replay_headers(self, kept: Delivery) -> dict[str, str]:
        return {
            "x-shopify-topic": kept.topic,
            "x-shopify-shop-domain": kept.shop,
            "x-shopify-webhook-id": kept.delivery_id,
            "x-shopify-event-id": kept.event_id or "",
            "x-shopify-triggered-at": kept.triggered_at.isoformat() if kept.triggered_at else "",
        }


def shopify_domain(value: str) -> str:
    """``"https://Demo.myshopify.com/"`` -> ``"demo.myshopify.com"``; ValueError otherwise."""
    host = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if len(host) > MAX_DOMAIN or not _MYSHOPIFY.fullmatch(host):
        raise ValueError(
            "the shop's myshopify.com domain as in X-Shopify-Shop-Domain, e.g. "
            '"demo.myshopify.com" (not a custom domain)'
        )
    return host


def read(headers: Mapping[str, str], payload: dict[str, Any], currency: str, shop: str) -> Delivery:
    """Turn one verified Shopify delivery for the programme pinning ``shop`` (canonical
    myshopify.com domain) into order events, or an ignored delivery."""
    topic = header(headers, "x-shopify-topic", MAX_TOPIC)
    claimed = header(headers, "x-shopify-shop-domain", MAX_DELIVERY_ID)
    delivery_id = header(headers, "x-shopify-webhook-id", MAX_DELIVERY_ID)
    if not topic or not claimed or not delivery_id:
        raise PayloadError(
            "headers",
            "X-Shopify-Topic, X-Shopify-Shop-Domain and X-Shopify-Webhook-Id are required",
        )
    check_pinned(claimed, shop, shopify_domain, "X-Shopify-Shop-Domain", "shop", PIN_KEY)
    source = order_source(NAME, shop)
    base = Delivery(
        source=NAME,
        shop=shop,
        topic=topic,
        delivery_id=delivery_id,
        event_id=header(headers, "x-shopify-event-id", MAX_DELIVERY_ID) or None,
        triggered_at=timestamp(headers.get("x-shopify-triggered-at"), "X-Shopify-Triggered-At"),
    )
    test = payload.get("test") is True
    if topic in PAID_TOPICS:
        status = _order_status(payload, topic)
        if payload.get("cancelled_at") not in (None, ""):
            raise PayloadError("cancelled_at", f"a cancelled order is not an {topic} body")
        if topic == "orders/create" and status != "paid":
            return _ignored(base, "orders/create before payment earns nothing; orders/paid will")
        if status not in PAID_STATUSES:
            raise PayloadError("financial_status", f"{status!r} is not paid: not an {topic} body")
        event = OrderEvent(
            "paid",
            source,
            ident(payload, "id", ""),
            customer_of(payload, source),
            facts=order_facts(payload, source, _currency(payload, currency)),
            test=test,
            codes=shop_codes(payload, "discount_codes", ""),
            referral=shopify_ref(payload),
        )
        return _with(base, event)
    if topic == "orders/cancelled":
        _order_status(payload, topic)
        if timestamp(payload.get("cancelled_at"), "cancelled_at") is None:
            raise PayloadError(
                "cancelled_at", "an order that is not cancelled: not an orders/cancelled body"
            )
        order_currency = _currency(payload, currency)
        refunds = tuple(
            refund_info(r, source, order_currency, f"refunds[{i}].")
            for i, r in enumerate(items(payload, "refunds", ""))
        )
        event = OrderEvent(
            "cancel",
            source,
            ident(payload, "id", ""),
            customer_of(payload, source),
            refunds=refunds,
            test=test,
        )
        return _with(base, event)
    if topic == "refunds/create":
        if not isinstance(payload.get("refund_line_items"), list) or "line_items" in payload:
            raise PayloadError("refund_line_items", "not a refund: not a refunds/create body")
        refund = refund_info(payload, source, currency, "")
        event = OrderEvent(
            "refund",
            source,
            ident(payload, "order_id", ""),
            CustomerInfo(),
            refunds=(refund,),
            test=test,
        )
        return _with(base, event)
    return _ignored(base, f"topic {topic!r} is not one walletcards applies")


def _order_status(order: dict[str, Any], topic: str) -> str | None:
    """The body of an order topic must be an order (a refund is not); its financial_status."""
    if not isinstance(order.get("line_items"), list) or "order_id" in order:
        raise PayloadError("line_items", f"not an order: not an {topic} body")
    return text(order, "financial_status", "")


def _currency(order: dict[str, Any], programme_currency: str) -> str:
    currency = text(order, "currency", "") or programme_currency
    if currency != programme_currency:
        raise PayloadError(
            "currency",
            f"the shop's currency {currency} is not the programme's {programme_currency}",
        )
    return currency


def _with(base: Delivery, event: OrderEvent) -> Delivery:
    return replace(base, events=(event,))


def _ignored(base: Delivery, reason: str) -> Delivery:
    return replace(base, ignored_reason=reason)
