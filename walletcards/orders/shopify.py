"""Shopify: orders/paid, orders/create (only when already paid), orders/cancelled, refunds/create.

Amounts are read in the shop's currency (``*_set.shop_money``), the programme's currency.
Gift-card lines (``gift_card: true``) never earn points: buying a gift card is not spending.
Refunds carry ``refund_line_items[].subtotal`` (already net of discounts) and shipping refunds
as ``order_adjustments`` of kind ``shipping_refund`` with negative amounts (FACTS: Shops).

Shopify signs the body only: the topic and shop headers are not signed. So the shop header must
be the programme's pinned shop (the order's identity is built from the pin), and the topic must
agree with the signed body (docs/webhooks.md, "What is signed").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from walletcards.loyalty.config_webhooks import shopify_domain
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.orders.events import (
    CustomerInfo,
    Delivery,
    OrderEvent,
    PayloadError,
    RefundInfo,
    UnknownShop,
)
from walletcards.orders.identity import customer_external_id, order_source
from walletcards.orders.payload import (
    MAX_DELIVERY_ID,
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_PHONE,
    MAX_TOPIC,
    bounded,
    decimal,
    email,
    header,
    ident,
    items,
    label,
    minor,
    obj,
    person_name,
    quantity,
    text,
    timestamp,
)

SIGNATURE_HEADER = "x-shopify-hmac-sha256"  # header names are matched lower-cased
GIFT_CARD = "gift card"
PAID_TOPICS = ("orders/paid", "orders/create")
# financial_status of an order Shopify reports as paid (orders/paid is sent once payment is
# captured; its retries carry the original body, so a later refund never shows up in them)
PAID_STATUSES = ("paid", "partially_paid")


def _shop_amount(data: dict[str, Any], key: str, path: str) -> Any:
    """``<key>_set.shop_money.amount`` when present (multi-currency shops), else ``<key>``."""
    money_set = data.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        return money_set["shop_money"].get("amount")
    return data.get(key, "0")


def _line(line: dict[str, Any], currency: str, path: str) -> OrderLine:
    price = decimal(_shop_amount(line, "price", path), f"{path}price")
    count = quantity(line.get("quantity", 1), f"{path}quantity")
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
    discount = decimal(discount, f"{path}discount_allocations")
    amount = minor(max(price * count - discount, Decimal(0)), currency, f"{path}price")
    return _described(line, amount, path)


def _described(line: dict[str, Any], amount: int, path: str) -> OrderLine:
    product_type = label(line, "product_type", path)
    return OrderLine(
        amount_minor=max(amount, 0),
        sku=label(line, "sku", path),
        brand=label(line, "vendor", path),
        product_type=GIFT_CARD if line.get("gift_card") is True else product_type,
    )


def _customer(order: dict[str, Any], source: str) -> CustomerInfo:
    customer = obj(order, "customer", "", required=False)
    billing = obj(order, "billing_address", "", required=False)
    first, last = (
        text(customer, key, "customer.", limit=MAX_NAME)
        or text(billing, key, "billing_address.", limit=MAX_NAME)
        for key in ("first_name", "last_name")
    )
    customer_id = text(customer, "id", "customer.", limit=MAX_ID)
    return CustomerInfo(
        external_id=customer_external_id(source, customer_id) if customer_id else None,
        email=email(
            text(customer, "email", "customer.", limit=MAX_EMAIL)
            or text(order, "email", "", limit=MAX_EMAIL)
            or text(order, "contact_email", "", limit=MAX_EMAIL),
            "email",
        ),
        phone=text(customer, "phone", "customer.", limit=MAX_PHONE)
        or text(order, "phone", "", limit=MAX_PHONE),
        name=person_name(first, last, "customer.first_name"),
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
    facts = OrderFacts(source, ident(order, "id", ""), currency, paid_at, lines, shipping, tax)
    bounded(facts.total_minor, "line_items")
    return facts


def _refund(refund: dict[str, Any], source: str, currency: str, path: str) -> RefundInfo:
    lines = []
    tax = 0
    for i, item in enumerate(items(refund, "refund_line_items", path)):
        where = f"{path}refund_line_items[{i}]."
        subtotal = minor(_shop_amount(item, "subtotal", where), currency, f"{where}subtotal")
        tax += minor(_shop_amount(item, "total_tax", where), currency, f"{where}total_tax")
        lines.append(
            _described(
                obj(item, "line_item", where, required=False), subtotal, f"{where}line_item."
            )
        )
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
            amount = _shop_amount(adjustment, "amount", where)
            shipping -= minor(amount, currency, where, negative=True)
    info = RefundInfo(
        key=f"{source}:refund:{ident(refund, 'id', path)}",
        lines=tuple(lines),
        shipping_minor=max(shipping, 0),
        tax_minor=tax,
    )
    bounded(sum(line.amount_minor for line in lines) + info.shipping_minor + tax, path or "refund")
    return info


def parse(
    headers: Mapping[str, str], payload: dict[str, Any], currency: str, shop: str
) -> Delivery:
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
    _check_shop(claimed, shop)
    source = order_source("shopify", shop)
    base = Delivery(
        source="shopify",
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
            _customer(payload, source),
            facts=_order_facts(payload, source, _currency(payload, currency)),
            test=test,
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
        if not isinstance(payload.get("refund_line_items"), list) or "line_items" in payload:
            raise PayloadError("refund_line_items", "not a refund: not a refunds/create body")
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


def _check_shop(claimed: str, shop: str) -> None:
    try:
        same = shopify_domain(claimed) == shop
    except ValueError:
        same = False
    if not same:
        raise UnknownShop(
            f"X-Shopify-Shop-Domain {claimed[:80]!r} is not the shop this programme trusts "
            "(webhooks.shopify_shop_domain)"
        )


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
