"""WooCommerce: order.created / order.updated (REST v3 order bodies).

WooCommerce has no "paid" topic: an order is paid when its status is processing or completed
and ``date_paid`` is set. The body is built at delivery time, so one delivery may carry a
refund made since the last one: ``refunds[]`` are diffed by refund id (each applied once, pro
rata to the order's total since WooCommerce lists no refunded lines there). Status cancelled
or refunded reverses whatever remains. WooCommerce never retries (FACTS: Shops).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.orders.events import CustomerInfo, Delivery, OrderEvent, PayloadError, RefundInfo
from walletcards.orders.identity import customer_external_id, order_source, shop_of
from walletcards.orders.payload import email, ident, items, minor, obj, text, timestamp

SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPICS = ("order.created", "order.updated")
PAID_STATUSES = ("processing", "completed")


def is_ping(body: bytes) -> bool:
    """The form-encoded ping WooCommerce sends when a webhook is created: ``webhook_id=N``."""
    name, _, value = body.decode("latin-1").partition("=")
    return name == "webhook_id" and value.strip().isdigit()


def _customer(order: dict[str, Any], source: str) -> CustomerInfo:
    billing = obj(order, "billing", "", required=False)
    customer_id = text(order, "customer_id", "")
    name = f"{billing.get('first_name') or ''} {billing.get('last_name') or ''}".strip()
    return CustomerInfo(
        external_id=(
            customer_external_id(source, customer_id) if customer_id not in (None, "0") else None
        ),
        email=email(text(billing, "email", "billing.")),
        phone=text(billing, "phone", "billing."),
        name=name or None,
    )


def _facts(order: dict[str, Any], source: str, currency: str) -> OrderFacts:
    lines = []
    for i, line in enumerate(items(order, "line_items", "")):
        where = f"line_items[{i}]."
        sku = line.get("sku")
        lines.append(
            OrderLine(
                minor(line.get("total", "0"), currency, f"{where}total"),
                sku=sku if isinstance(sku, str) and sku else None,
            )
        )
    paid_at = timestamp(order.get("date_paid_gmt") or order.get("date_paid"), "date_paid_gmt")
    assert paid_at is not None  # callers check date_paid first
    return OrderFacts(
        source,
        ident(order, "id", ""),
        currency,
        paid_at,
        tuple(lines),
        minor(order.get("shipping_total", "0"), currency, "shipping_total"),
        minor(order.get("total_tax", "0"), currency, "total_tax"),
    )


def parse(headers: Mapping[str, str], payload: dict[str, Any], currency: str) -> Delivery:
    topic = headers.get("x-wc-webhook-topic", "")
    origin = headers.get("x-wc-webhook-source", "")
    delivery_id = headers.get("x-wc-webhook-delivery-id", "")
    if not topic or not origin or not delivery_id:
        raise PayloadError("headers", "X-WC-Webhook-Topic, -Source and -Delivery-ID are required")
    shop = urlsplit(origin).netloc or origin
    source = order_source("woocommerce", shop_of("woocommerce", origin))
    base = Delivery(
        source="woocommerce",
        shop=shop,
        topic=topic,
        delivery_id=delivery_id,
        event_id=headers.get("x-wc-webhook-id"),
        triggered_at=None,
    )
    if topic not in TOPICS:
        return replace(base, ignored_reason=f"topic {topic!r} is not one walletcards applies")
    order_currency = text(payload, "currency", "") or currency
    if order_currency != currency:
        raise PayloadError("currency", f"{order_currency} is not the programme's {currency}")
    order_id = ident(payload, "id", "")
    status = text(payload, "status", "", required=True)
    customer = _customer(payload, source)
    events: list[OrderEvent] = []
    paid = payload.get("date_paid_gmt") or payload.get("date_paid")
    if status in PAID_STATUSES and paid:
        events.append(
            OrderEvent("paid", source, order_id, customer, facts=_facts(payload, source, currency))
        )
    refunds = []
    for i, refund in enumerate(items(payload, "refunds", "")):
        amount = -minor(refund.get("total", "0"), currency, f"refunds[{i}].total")
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
