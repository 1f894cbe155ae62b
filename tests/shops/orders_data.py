"""Orders as each shop's admin API holds them: Shopify's GraphQL ``Order`` (the same order as
tests/orders/fixtures/shopify_order_paid.json, the webhook body) and WooCommerce's REST body."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "orders" / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def bag(shop: str, presentment: str | None = None) -> dict[str, Any]:
    """A MoneyBag in USD (shop) and EUR (presentment), as the fixture's order."""
    return {
        "shopMoney": {"amount": shop, "currencyCode": "USD"},
        "presentmentMoney": {"amount": presentment or shop, "currencyCode": "EUR"},
    }


def line(
    number: int, price: str, quantity: int, discount: str, sku: str, gift: bool = False
) -> dict[str, Any]:
    """A LineItem (the fixture's gift card comes from another vendor)."""
    return {
        "id": f"gid://shopify/LineItem/{number}",
        "name": sku,
        "title": sku,
        "quantity": quantity,
        "sku": sku,
        "vendor": "Demo Coffee" if gift else "Demo Roasters",
        "isGiftCard": gift,
        "product": {"productType": ""},  # String! in the schema: "" when the product has none
        "originalUnitPriceSet": bag(price),
        "totalDiscountSet": bag(discount),
        "discountAllocations": [{"allocatedAmountSet": bag(discount)}]
        if discount != "0.00"
        else [],
    }


def shopify_order(
    number: int = 5899425235089482367,
    updated_at: str = "2026-12-01T12:00:00Z",
    *,
    extra_lines: int = 0,
    refunds: list[dict[str, Any]] | None = None,
    status: str = "PAID",
    cancelled_at: str | None = None,
) -> dict[str, Any]:
    """The fixture's paid order as Admin GraphQL holds it (``extra_lines`` cheap lines more)."""
    lines = [
        line(14298401284751293441, "16.00", 2, "3.20", "HB-340"),
        line(14298401284751293442, "12.00", 1, "2.30", "MUG-01"),
        line(14298401284751293443, "10.00", 1, "0.00", "", gift=True),
    ]
    lines += [line(900 + i, "1.00", 1, "0.00", f"EXTRA-{i}") for i in range(extra_lines)]
    return {
        "id": f"gid://shopify/Order/{number}",
        "legacyResourceId": str(number),
        "name": "#1001",
        "email": "ann.lee@example.com",
        "phone": None,
        "test": False,
        "currencyCode": "USD",
        "presentmentCurrencyCode": "EUR",
        "customerLocale": "en-US",
        "displayFinancialStatus": status,
        "cancelledAt": cancelled_at,
        "cancelReason": "CUSTOMER" if cancelled_at else None,
        "createdAt": "2026-03-01T12:01:27Z",
        "processedAt": "2026-03-01T12:01:26Z",
        "updatedAt": updated_at,
        "discountCodes": ["SPEND5"],
        "totalPriceSet": bag("58.58", "53.89"),
        "totalTaxSet": bag("4.08", "3.75"),
        "customer": {
            "id": "gid://shopify/Customer/7351204895634215987",
            "legacyResourceId": "7351204895634215987",
            "firstName": "Ann",
            "lastName": "Lee",
            "phone": "+16135550123",
        },
        "billingAddress": {"firstName": "Ann", "lastName": "Lee", "phone": None},
        "lineItems": lines,
        "shippingLines": [
            {
                "title": "Standard",
                "code": "Standard",
                "originalPriceSet": bag("6.00"),
                "discountedPriceSet": bag("6.00"),
            }
        ],
        "refunds": refunds or [],
    }


def shopify_refund(number: int, lines: int = 1) -> dict[str, Any]:
    """A refund of ``lines`` mugs at 9.70 + 0.78 tax each, and 6.00 of shipping."""
    mug = line(14298401284751293442, "12.00", 1, "2.30", "MUG-01")
    return {
        "id": f"gid://shopify/Refund/{number}",
        "legacyResourceId": str(number),
        "createdAt": "2026-03-05T14:12:41Z",
        "refundLineItems": [
            {
                "id": f"gid://shopify/RefundLineItem/{number * 100 + i}",
                "quantity": 1,
                "subtotalSet": bag("9.70"),
                "totalTaxSet": bag("0.78"),
                "lineItem": mug,
            }
            for i in range(lines)
        ],
        "refundShippingLines": [{"subtotalAmountSet": bag("6.00")}],
    }


def woo_order(number: int, modified_gmt: str, status: str = "processing") -> dict[str, Any]:
    """The WooCommerce fixture's order under another id and modification time."""
    order = copy.deepcopy(fixture("woocommerce_order_processing.json"))
    order.update(id=number, number=str(number), status=status, date_modified_gmt=modified_gmt)
    return order
