"""What a Shopify order or refund body says: lines, shipping and tax in the shop's money, the
customer, refunds (the delivery itself, its topic and its shop: ``shopify.py``).

Amounts are read in the shop's currency (``*_set.shop_money``), the programme's currency.
Gift-card lines (``gift_card: true``) never earn points: buying a gift card is not spending.
Refunds carry ``refund_line_items[].subtotal`` (already net of discounts) and shipping refunds
as ``order_adjustments`` of kind ``shipping_refund`` with negative amounts (FACTS: Shops).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.orders.events import CustomerInfo, PayloadError, RefundInfo
from walletcards.orders.identity import customer_external_id
from walletcards.orders.payload import (
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_PHONE,
    bounded,
    decimal,
    email,
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

GIFT_CARD = "gift card"


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


def customer_of(order: dict[str, Any], source: str) -> CustomerInfo:
    """The order's customer (billing names when the customer has none), ids under ``source``."""
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


def order_facts(order: dict[str, Any], source: str, currency: str) -> OrderFacts:
    """A paid order's lines (net of discounts), shipping and tax, bounded."""
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


def refund_info(refund: dict[str, Any], source: str, currency: str, path: str) -> RefundInfo:
    """One refund: its lines' subtotals and tax, and its shipping (either API's form)."""
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
