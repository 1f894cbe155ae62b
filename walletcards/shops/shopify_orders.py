"""Shopify orders read over Admin GraphQL, turned into the REST-shaped JSON our orders/paid,
orders/cancelled and refunds webhooks carry (what ``walletcards.orders.shopify`` parses).

Only what the intake reads is mapped: ids (REST ids are the GraphQL ``legacyResourceId``),
e-mail, customer, financial status, money as ``<key>`` + ``<key>_set`` (shop and presentment
money), line items with their discount allocations, shipping lines, discount codes (GraphQL
gives the codes only: ``[{"code"}]``, no amount or type), ``cancelled_at`` and refunds with
their line items and refunded shipping (``refund_shipping_lines``, the 2024-10+ REST shape).

The selections below are checked against Shopify's published 2025-01 schema by the loopback
fake (tests/fakes/shopify_admin.py), deprecated fields included: none is used. Nested lists are
fetched in small slices to keep a page's query cost well under Shopify's 1000-point maximum;
the client fetches the rest of an order's long lists with the follow-up queries here.
"""

from __future__ import annotations

from typing import Any

LINE_LIMIT = 25  # line items per order in a page of orders (more: ORDER_LINES)
REFUND_LIMIT = 5  # refunds per order in a page (that many: ORDER_REFUNDS fetches them all)
REFUND_LINE_LIMIT = 10  # line items per refund (more: REFUND_LINES)

LINE_FRAGMENTS = """
fragment Money on MoneyBag {
  shopMoney { amount currencyCode }
  presentmentMoney { amount currencyCode }
}
fragment LineFields on LineItem {
  id name title quantity sku vendor isGiftCard
  product { productType }
  originalUnitPriceSet { ...Money }
  totalDiscountSet { ...Money }
  discountAllocations { allocatedAmountSet { ...Money } }
}
"""
REFUND_FRAGMENT = f"""
fragment RefundFields on Refund {{
  id legacyResourceId createdAt
  refundLineItems(first: {REFUND_LINE_LIMIT}) {{
    nodes {{ id quantity subtotalSet {{ ...Money }} totalTaxSet {{ ...Money }}
             lineItem {{ ...LineFields }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  refundShippingLines(first: 5) {{ nodes {{ subtotalAmountSet {{ ...Money }} }} }}
}}
"""
ORDER_FRAGMENT = f"""
fragment OrderFields on Order {{
  id legacyResourceId name email phone test currencyCode presentmentCurrencyCode
  customerLocale displayFinancialStatus cancelledAt cancelReason createdAt processedAt updatedAt
  discountCodes
  totalPriceSet {{ ...Money }}
  totalTaxSet {{ ...Money }}
  customer {{ id legacyResourceId firstName lastName phone }}
  billingAddress {{ firstName lastName phone }}
  lineItems(first: {LINE_LIMIT}) {{
    nodes {{ ...LineFields }} pageInfo {{ hasNextPage endCursor }}
  }}
  shippingLines(first: 10) {{
    nodes {{ title code originalPriceSet {{ ...Money }} discountedPriceSet {{ ...Money }} }}
  }}
  refunds(first: {REFUND_LIMIT}) {{ ...RefundFields }}
}}
"""

ORDERS = (
    """
query WalletcardsOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes { ...OrderFields }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + ORDER_FRAGMENT
    + REFUND_FRAGMENT
    + LINE_FRAGMENTS
)

ORDER_LINES = (
    """
query WalletcardsOrderLines($id: ID!, $after: String) {
  node(id: $id) {
    ... on Order {
      lineItems(first: 100, after: $after) {
        nodes { ...LineFields } pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
    + LINE_FRAGMENTS
)

ORDER_REFUNDS = (
    """
query WalletcardsOrderRefunds($id: ID!) {
  node(id: $id) { ... on Order { refunds { ...RefundFields } } }
}
"""
    + REFUND_FRAGMENT
    + LINE_FRAGMENTS
)

REFUND_LINES = (
    """
query WalletcardsRefundLines($id: ID!, $after: String) {
  node(id: $id) {
    ... on Refund {
      refundLineItems(first: 100, after: $after) {
        nodes { id quantity subtotalSet { ...Money } totalTaxSet { ...Money }
                lineItem { ...LineFields } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
    + LINE_FRAGMENTS
)


def gid_number(gid: Any) -> int | None:
    """``gid://shopify/LineItem/123`` -> 123 (REST ids are the numbers)."""
    if not isinstance(gid, str):
        return None
    tail = gid.rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


def _money(data: dict[str, Any], key: str, rest_key: str) -> dict[str, Any]:
    """``{rest_key: "1.00", rest_key_set: {shop_money, presentment_money}}`` from a MoneyBag."""
    bag = data.get(key)
    if not isinstance(bag, dict):
        return {}

    def side(name: str) -> dict[str, Any]:
        money = bag.get(name) or {}
        return {"amount": money.get("amount"), "currency_code": money.get("currencyCode")}

    shop = side("shopMoney")
    return {
        rest_key: shop["amount"],
        f"{rest_key}_set": {"shop_money": shop, "presentment_money": side("presentmentMoney")},
    }


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def rest_line(line: dict[str, Any]) -> dict[str, Any]:
    product = line.get("product") or {}
    return {
        "id": gid_number(line.get("id")),
        "admin_graphql_api_id": line.get("id"),
        "name": line.get("name"),
        "title": line.get("title"),
        "quantity": line.get("quantity"),
        "sku": line.get("sku"),
        "vendor": line.get("vendor"),
        "gift_card": bool(line.get("isGiftCard")),
        "product_type": product.get("productType") or None,
        **_money(line, "originalUnitPriceSet", "price"),
        **_money(line, "totalDiscountSet", "total_discount"),
        "discount_allocations": [
            _money(a, "allocatedAmountSet", "amount") for a in line.get("discountAllocations", [])
        ],
    }


def rest_refund(refund: dict[str, Any], order_id: int) -> dict[str, Any]:
    lines = []
    for item in (refund.get("refundLineItems") or {}).get("nodes", []):
        line = rest_line(item.get("lineItem") or {})
        lines.append(
            {
                "id": gid_number(item.get("id")),
                "line_item_id": line["id"],
                "quantity": item.get("quantity"),
                **_money(item, "subtotalSet", "subtotal"),
                **_money(item, "totalTaxSet", "total_tax"),
                "line_item": line,
            }
        )
    shipping = (refund.get("refundShippingLines") or {}).get("nodes", [])
    return {
        "id": int(refund["legacyResourceId"]),
        "admin_graphql_api_id": refund.get("id"),
        "order_id": order_id,
        "created_at": refund.get("createdAt"),
        "refund_line_items": lines,
        "refund_shipping_lines": [
            _money(s, "subtotalAmountSet", "subtotal_amount") for s in shipping
        ],
    }


def rest_order(node: dict[str, Any]) -> dict[str, Any]:
    """The webhook-shaped order for one GraphQL ``Order`` (lists already complete)."""
    order_id = int(node["legacyResourceId"])
    customer = node.get("customer")
    billing = node.get("billingAddress")
    return {
        "id": order_id,
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "email": node.get("email"),
        "contact_email": node.get("email"),
        "phone": node.get("phone"),
        "test": bool(node.get("test")),
        "currency": node.get("currencyCode"),
        "presentment_currency": node.get("presentmentCurrencyCode"),
        "customer_locale": node.get("customerLocale"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": _lower(node.get("cancelReason")),
        "created_at": node.get("createdAt"),
        "processed_at": node.get("processedAt"),
        "updated_at": node.get("updatedAt"),
        **_money(node, "totalPriceSet", "total_price"),
        **_money(node, "totalTaxSet", "total_tax"),
        "discount_codes": [{"code": code} for code in node.get("discountCodes", [])],
        "customer": None
        if not isinstance(customer, dict)
        else {
            "id": int(customer["legacyResourceId"]),
            "admin_graphql_api_id": customer.get("id"),
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "phone": customer.get("phone"),
        },
        "billing_address": None
        if not isinstance(billing, dict)
        else {
            "first_name": billing.get("firstName"),
            "last_name": billing.get("lastName"),
            "phone": billing.get("phone"),
        },
        "line_items": [rest_line(line) for line in node["lineItems"]["nodes"]],
        "shipping_lines": [
            {
                "title": ship.get("title"),
                "code": ship.get("code"),
                **_money(ship, "originalPriceSet", "price"),
                **_money(ship, "discountedPriceSet", "discounted_price"),
            }
            for ship in node["shippingLines"]["nodes"]
        ],
        "refunds": [rest_refund(r, order_id) for r in node.get("refunds", [])],
    }
