"""The real Shopify Admin GraphQL client against the loopback fake, at the pinned version
(2026-10: context/uri, checked against the changelog overlay) and at 2025-01 (customerSelection/
callbackUrl, checked against Shopify's published schema)."""

from __future__ import annotations

import hashlib
import socket
import ssl
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import GraphQLInputObjectType, get_named_type

from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.shopify_schema import SCHEMA_FILE, schema_2025_01
from tests.shops.conftest import NOW, SHOP, TOKEN
from tests.shops.orders_data import fixture, shopify_order, shopify_refund
from walletcards.clock import FixedClock
from walletcards.orders import shopify as intake
from walletcards.orders.events import OrderEvent
from walletcards.shops.admin import ShopRefused, ShopUnavailable
from walletcards.shops.shopify_admin import ShopifyAdmin

pytestmark = pytest.mark.once

WEEK = NOW + timedelta(days=7)
CUSTOMER = "7351204895634215987"


def event(topic: str, payload: dict[str, Any]) -> OrderEvent:
    """What our webhook intake makes of a payload delivered under ``topic``."""
    headers = {
        "x-shopify-topic": topic,
        "x-shopify-shop-domain": SHOP,
        "x-shopify-webhook-id": "reconcile-1",
    }
    delivery = intake.read(headers, payload, "USD", SHOP)
    assert len(delivery.events) == 1, delivery.ignored_reason
    return delivery.events[0]


def test_a_code_is_a_single_use_amount_off_the_order_for_one_customer(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify
) -> None:
    made = shopify.create_code("PTS-AB12", Decimal("5"), "USD", CUSTOMER, "a@example.com", WEEK)
    sent = fake_shopify.codes[made.id]
    assert made.id.startswith("gid://shopify/DiscountCodeNode/")
    assert sent["customerGets"] == {
        "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
        "items": {"all": True},
    }
    assert (sent["code"], sent["usageLimit"], sent["appliesOncePerCustomer"]) == (
        "PTS-AB12",
        1,
        True,
    )
    assert (sent["startsAt"], sent["endsAt"]) == ("2026-12-01T12:00:00Z", "2026-12-08T12:00:00Z")
    buyers = {"customers": {"add": [f"gid://shopify/Customer/{CUSTOMER}"]}}
    if shopify.new_shapes:
        assert sent["context"] == buyers and "customerSelection" not in sent
    else:
        assert sent["customerSelection"] == buyers and "context" not in sent


def test_a_code_without_a_customer_is_open_to_all_buyers(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify
) -> None:
    made = shopify.create_code("PTS-OPEN", Decimal("0.50"), "USD", None, None, WEEK)
    sent = fake_shopify.codes[made.id]
    if shopify.new_shapes:
        assert sent["context"] == {"all": "ALL"}
    else:
        assert sent["customerSelection"] == {"all": True}


def test_a_minimum_is_sent_as_the_codes_minimum_subtotal(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify
) -> None:
    """``minimumRequirement.subtotal.greaterThanOrEqualToSubtotal`` (DiscountMinimumSubtotal-
    Input, a Decimal: sent as a string) is valid in the 2025-01 schema and the overlay alike."""
    made = shopify.create_code(
        "PTS-MIN", Decimal("5"), "USD", CUSTOMER, None, WEEK, minimum=Decimal("10")
    )
    sent = fake_shopify.codes[made.id]
    assert sent["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "10.00"}}
    without = shopify.create_code("PTS-NOMIN", Decimal("5"), "USD", CUSTOMER, None, WEEK)
    assert "minimumRequirement" not in fake_shopify.codes[without.id]
    for bad in (Decimal("0"), Decimal("1.005"), Decimal("NaN")):
        with pytest.raises(ShopRefused):
            shopify.create_code("PTS-BAD", Decimal("5"), "USD", None, None, WEEK, minimum=bad)


def test_the_fake_holds_each_version_to_its_own_shape(
    fake_shopify: FakeShopify, trust: ssl.SSLContext
) -> None:
    """The old input names fail on 2026-10 and the new ones on 2025-01 (as a check that the
    client's version switch is tested, not assumed)."""
    old = ShopifyAdmin(SHOP, TOKEN, version="2025-01", base_url=fake_shopify.url, verify=trust)
    payload = old.code_input("X", "1.00", None, NOW, WEEK)
    for version, body in (("2026-10", payload), ("2025-01", {**payload, "context": {}})):
        answer = httpx.post(
            f"{fake_shopify.url}/admin/api/{version}/graphql.json",
            json={
                "query": "mutation WalletcardsCreateCode($input: DiscountCodeBasicInput!) "
                "{ discountCodeBasicCreate(basicCodeDiscount: $input) { userErrors { message } } }",
                "variables": {"input": body},
            },
            headers={"X-Shopify-Access-Token": TOKEN},
            verify=trust,
        ).json()
        assert "not to include unknown field" in answer["errors"][0]["message"]
    old.close()
    assert len(fake_shopify.problems) == 2
    fake_shopify.problems.clear()


def test_throttled_calls_wait_for_the_bucket_and_succeed(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify, slept: list[float]
) -> None:
    fake_shopify.throttle, fake_shopify.available = 2, 2.0
    shopify.tag_customer(CUSTOMER, ["gold"], [])
    # (requested 12 - available 2) points at 100 points a second
    assert slept == [pytest.approx(0.1), pytest.approx(0.1)]
    assert fake_shopify.tags[f"gid://shopify/Customer/{CUSTOMER}"] == {"gold"}


def test_throttled_beyond_the_retries_is_unavailable(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify, slept: list[float]
) -> None:
    fake_shopify.throttle = 99
    with pytest.raises(ShopUnavailable, match="throttled"):
        shopify.list_webhooks()
    assert len(fake_shopify.requests) == 5 and len(slept) == 4


def test_user_errors_are_refusals_with_shopify_s_message(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify
) -> None:
    fake_shopify.refuse_next("discountCodeBasicCreate", "Customer is not eligible", "INVALID")
    with pytest.raises(ShopRefused) as refused:
        shopify.create_code("PTS-1", Decimal("5.00"), "USD", CUSTOMER, None, WEEK)
    assert "Customer is not eligible" in refused.value.message
    assert refused.value.code == "INVALID"
    with pytest.raises(ShopRefused, match="Discount does not exist"):
        shopify.delete_code("gid://shopify/DiscountCodeNode/1")


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors_are_unavailable(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify, status: int
) -> None:
    fake_shopify.statuses = [status] * 5
    with pytest.raises(ShopUnavailable):
        shopify.list_webhooks()


def test_a_passing_503_is_retried(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify, slept: list[float]
) -> None:
    fake_shopify.statuses = [503]
    assert shopify.list_webhooks() == []
    assert slept == [1.0]


def test_no_answer_is_unavailable_and_a_wrong_token_is_refused_without_showing_it(
    fake_shopify: FakeShopify, trust: ssl.SSLContext
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = ShopifyAdmin(SHOP, TOKEN, base_url=f"https://127.0.0.1:{port}", verify=trust)
    with pytest.raises(ShopUnavailable) as unavailable:
        nowhere.list_webhooks()
    wrong = ShopifyAdmin(SHOP, "shpat_wrong_token_0000", base_url=fake_shopify.url, verify=trust)
    with pytest.raises(ShopRefused) as refused:
        wrong.list_webhooks()
    assert refused.value.code == "HTTP_401"
    for shown in (str(unavailable.value), str(refused.value), repr(wrong), repr(wrong.graphql)):
        assert "shpat_" not in shown
    nowhere.close()
    wrong.close()


def test_versions_and_plain_http_are_checked() -> None:
    with pytest.raises(ValueError, match="version"):
        ShopifyAdmin(SHOP, TOKEN, version="2026-11")
    with pytest.raises(ValueError, match="https"):
        ShopifyAdmin(SHOP, TOKEN, base_url="http://127.0.0.1:1")
    assert ShopifyAdmin(SHOP, TOKEN, base_url="http://127.0.0.1:1", allow_http=True)
    with pytest.raises(ShopRefused):
        ShopifyAdmin(SHOP, TOKEN).tag_customer("ann@example.com", ["gold"], [])


def test_webhooks_speak_the_version_s_names(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify
) -> None:
    made = shopify.create_webhook("refunds/create", "https://cards.example.com/webhooks/d/shopify")
    assert fake_shopify.webhooks[0]["topic"] == "REFUNDS_CREATE"
    assert made.topic == "refunds/create"
    assert shopify.list_webhooks() == [made]
    with pytest.raises(ShopRefused, match="protocol"):
        shopify.create_webhook("orders/paid", "http://cards.example.com/webhooks/d/shopify")


def test_an_order_read_back_is_what_the_webhook_would_have_said(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify
) -> None:
    fake_shopify.orders.append(shopify_order())
    page = shopify.orders_updated_since(NOW - timedelta(days=1))
    (payload,) = page.orders
    assert page.cursor is None
    assert payload["discount_codes"] == [{"code": "SPEND5"}]
    assert event("orders/paid", payload) == event("orders/paid", fixture("shopify_order_paid.json"))


def test_a_cancelled_order_carries_its_refunds(
    shopify: ShopifyAdmin, fake_shopify: FakeShopify
) -> None:
    cancelled = shopify_order(
        status="REFUNDED",
        cancelled_at="2026-03-06T15:00:00Z",
        refunds=[shopify_refund(1012345678901234567)],
    )
    fake_shopify.orders.append(cancelled)
    (payload,) = shopify.orders_updated_since(NOW - timedelta(days=1)).orders
    expected = event("orders/cancelled", fixture("shopify_order_cancelled.json"))
    # the fixture's first refund (a mug and the shipping); it has a second one besides
    assert event("orders/cancelled", payload).refunds == expected.refunds[:1]


def test_long_orders_are_read_whole(shopify: ShopifyAdmin, fake_shopify: FakeShopify) -> None:
    refunds = [shopify_refund(500 + i) for i in range(5)] + [shopify_refund(600, lines=12)]
    fake_shopify.orders.append(shopify_order(extra_lines=30, refunds=refunds))
    (payload,) = shopify.orders_updated_since(NOW - timedelta(days=1)).orders
    assert len(payload["line_items"]) == 33
    assert [len(r["refund_line_items"]) for r in payload["refunds"]] == [1] * 5 + [12]
    names = {r.operation for r in fake_shopify.requests}
    assert {"WalletcardsOrderLines", "WalletcardsOrderRefunds", "WalletcardsRefundLines"} <= names


def test_tags_are_added_and_removed(shopify: ShopifyAdmin, fake_shopify: FakeShopify) -> None:
    fake_shopify.tags[f"gid://shopify/Customer/{CUSTOMER}"] = {"vip", "silver"}
    shopify.tag_customer(f"gid://shopify/Customer/{CUSTOMER}", ["gold"], ["silver"])
    assert fake_shopify.tags[f"gid://shopify/Customer/{CUSTOMER}"] == {"vip", "gold"}
    assert [r.operation for r in fake_shopify.requests] == [
        "WalletcardsTagsRemove",
        "WalletcardsTagsAdd",
    ]


def test_the_vendored_schema_is_the_published_file() -> None:
    """The checksum tests/data/README.md gives for the file from @shopify/dev-mcp@1.1.0."""
    digest = hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()
    assert digest == "1057c5bca68fafa831bad094d0c42a236eebc255d74347eca8f9d2670ff60608"


def input_paths(value: dict[str, Any], kind: Any, path: str = "input") -> list[str]:
    """The fields of an input value, as dotted paths, each checked to be in the schema's input
    type and not deprecated there."""
    found: list[str] = []
    for name, item in value.items():
        field = kind.fields.get(name)
        assert field is not None, f"{path}.{name} is not in the schema"
        assert field.deprecation_reason is None, f"{path}.{name} is deprecated"
        found.append(f"{path}.{name}")
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLInputObjectType) and isinstance(item, dict):
            found += input_paths(item, inner, f"{path}.{name}")
    return found


def test_every_discount_input_field_sent_at_2025_01_is_in_the_schema_and_not_deprecated(
    shop_clock: FixedClock,
) -> None:
    """The fake coerces variables, which refuses unknown fields but not deprecated ones: this
    walks what the 2025-01 client sends (usage limit 1, once per customer, all buyers or one
    customer, a minimum subtotal) through the published schema's input types."""
    kind = schema_2025_01().get_type("DiscountCodeBasicInput")
    client = ShopifyAdmin(SHOP, TOKEN, version="2025-01", clock=shop_clock)
    try:
        for customer, buyers in ((None, "all"), (CUSTOMER, "customers.add")):
            sent = client.code_input("PTS-1", "5.00", customer, NOW, WEEK, minimum="10.00")
            walked = input_paths(sent, kind)
            assert {"input.usageLimit", "input.appliesOncePerCustomer"} <= set(walked)
            assert "input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal" in walked
            assert f"input.customerSelection.{buyers}" in walked
    finally:
        client.close()
