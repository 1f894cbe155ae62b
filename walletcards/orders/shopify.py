"""Shopify: orders/paid, orders/create (only when already paid), orders/cancelled, refunds/create.

Amounts are read in the shop's currency (``*_set.shop_money``), the programme's currency.
Gift-card lines (``gift_card: true``) never earn points: buying a gift card is not spending.
Refunds carry ``refund_line_items[].subtotal`` (already net of discounts) and shipping refunds
as ``order_adjustments`` of kind ``shipping_refund`` with negative amounts (FACTS: Shops).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.orders.events import CustomerInfo, Delivery, OrderEvent, PayloadError, RefundInfo
from walletcards.orders.identity import customer_external_id, order_source, shop_of
from walletcards.orders.payload import decimal, email, ident, items, minor, obj, text, timestamp

SIGNATURE_HEADER = "x-shopify-hmac-sha256"  # header names are matched lower-cased
GIFT_CARD = "gift card"


def _shop_amount(data: dict[str, Any], key: str, path: str) -> Any:
    """``<key>_set.shop_money.amount`` when present (multi-currency shops), else ``<key>``."""
    money_set = data.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        return money_set["shop_money"].get("amount")
    return data.get(key, "0")


def _line(line: dict[str, Any], currency: str, path: str) -> OrderLine:
    price = decimal(_shop_amount(line, "price", path), f"{path}price")
    quantity = line.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise PayloadError(f"{path}quantity", "must be a whole number")
    allocations = items(line, "discount_allocations", path)
    if allocations:
        discount = sum(
            (
                decimal(_shop_amount(a, "amount", path), f"{path}discount_allocations[{i}].amount")
                for i, a in enumerate(allocations)
            ),
            Decimal(0),
        )
    else:
        discount = decimal(_shop_amount(line, "total_discount", path), f"{path}total_discount")
    amount = minor(price * quantity - discount, currency, f"{path}price")
    return _described(line, amount)


def _described(line: dict[str, Any], amount: int) -> OrderLine:
    product_type = GIFT_CARD if line.get("gift_card") is True else line.get("product_type")
    return OrderLine(
        amount_minor=max(amount, 0),
        sku=line.get("sku") if isinstance(line.get("sku"), str) else None,
        brand=line.get("vendor") if isinstance(line.get("vendor"), str) else None,
        product_type=product_type if isinstance(product_type, str) else None,
    )


def _customer(order: dict[str, Any], source: str) -> CustomerInfo:
    customer = obj(order, "customer", "", required=False)
    billing = obj(order, "billing_address", "", required=False)
    first = customer.get("first_name") or billing.get("first_name") or ""
    last = customer.get("last_name") or billing.get("last_name") or ""
    name = f"{first} {last}".strip() or None
    customer_id = text(customer, "id", "customer.")
    return CustomerInfo(
        external_id=customer_external_id(source, customer_id) if customer_id else None,
        email=email(
            text(customer, "email", "customer.")
            or text(order, "email", "")
            or text(order, "contact_email", "")
        ),
        phone=text(customer, "phone", "customer.") or text(order, "phone", ""),
        name=name,
        locale=(text(order, "customer_locale", "") or "")[:2] or None,
    )


def _order_facts(order: dict[str, Any], source: str, currency: str) -> OrderFacts:
    lines = tuple(
        _line(line, currency, f"line_items[{i}].")
        for i, line in enumerate(items(order, "line_items", ""))
    )
    shipping = 0
    for i, ship in enumerate(items(order, "shipping_lines", "")):
        price = ship.get("discounted_price_set") and _shop_amount(ship, "discounted_price", "")
        shipping += minor(
            price or _shop_amount(ship, "price", ""), currency, f"shipping_lines[{i}].price"
        )
    tax = minor(_shop_amount(order, "total_tax", ""), currency, "total_tax")
    paid_at = timestamp(order.get("processed_at") or order.get("created_at"), "processed_at")
    if paid_at is None:
        raise PayloadError("processed_at", "is required")
    return OrderFacts(source, ident(order, "id", ""), currency, paid_at, lines, shipping, tax)


def _refund(refund: dict[str, Any], source: str, currency: str, path: str) -> RefundInfo:
    lines = []
    tax = 0
    for i, item in enumerate(items(refund, "refund_line_items", path)):
        where = f"{path}refund_line_items[{i}]."
        subtotal = minor(_shop_amount(item, "subtotal", where), currency, f"{where}subtotal")
        tax += minor(_shop_amount(item, "total_tax", where), currency, f"{where}total_tax")
        lines.append(_described(obj(item, "line_item", where, required=False), subtotal))
    shipping = 0
    # API 2024-10 on: refund_shipping_lines[]; before: order_adjustments of kind
    # shipping_refund with negative amounts. Read whichever the payload has, never both.
    shipping_lines = items(refund, "refund_shipping_lines", path)
    for i, line in enumerate(shipping_lines):
        where = f"{path}refund_shipping_lines[{i}].subtotal_amount"
        shipping += minor(_shop_amount(line, "subtotal_amount", where), currency, where)
    for i, adjustment in enumerate(items(refund, "order_adjustments", path)):
        if adjustment.get("kind") == "shipping_refund" and not shipping_lines:
            where = f"{path}order_adjustments[{i}].amount"
            shipping -= minor(_shop_amount(adjustment, "amount", where), currency, where)
    return RefundInfo(
        key=f"{source}:refund:{ident(refund, 'id', path)}",
        lines=tuple(lines),
        shipping_minor=max(shipping, 0),
        tax_minor=tax,
    )


def parse(headers: Mapping[str, str], payload: dict[str, Any], currency: str) -> Delivery:
    """Turn one verified Shopify delivery into order events (or an ignored delivery)."""
    topic = headers.get("x-shopify-topic", "")
    shop = headers.get("x-shopify-shop-domain", "")
    delivery_id = headers.get("x-shopify-webhook-id", "")
    if not topic or not shop or not delivery_id:
        raise PayloadError(
            "headers",
            "X-Shopify-Topic, X-Shopify-Shop-Domain and X-Shopify-Webhook-Id are required",
        )
    source = order_source("shopify", shop_of("shopify", shop))
    base = Delivery(
        source="shopify",
        shop=shop,
        topic=topic,
        delivery_id=delivery_id,
        event_id=headers.get("x-shopify-event-id"),
        triggered_at=timestamp(headers.get("x-shopify-triggered-at"), "X-Shopify-Triggered-At"),
    )
    test = payload.get("test") is True
    if topic in ("orders/paid", "orders/create"):
        if topic == "orders/create" and payload.get("financial_status") != "paid":
            return _ignored(base, "orders/create before payment earns nothing; orders/paid will")
        event = OrderEvent(
            "paid",
            source,
            ident(payload, "id", ""),
            _customer(payload, source),
            facts=_order_facts(payload, source, _currency(payload, currency)),
            test=test,
        )
        return _with(base, event)
    if topic == "orders/cancelled":
        order_currency = _currency(payload, currency)
        refunds = tuple(
            _refund(r, source, order_currency, f"refunds[{i}].")
            for i, r in enumerate(items(payload, "refunds", ""))
        )
        event = OrderEvent(
            "cancel",
            source,
            ident(payload, "id", ""),
            _customer(payload, source),
            refunds=refunds,
            test=test,
        )
        return _with(base, event)
    if topic == "refunds/create":
        refund = _refund(payload, source, currency, "")
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
