"""One scenario, three shops: the in-memory shop behaves as the real clients do against their
loopback fakes (Shopify Admin GraphQL at the pinned version, WooCommerce REST v3)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.shops.conftest import NOW, SHOP, TOKEN, WOO_KEY, WOO_SECRET
from tests.shops.orders_data import shopify_order, woo_order
from walletcards.clock import FixedClock
from walletcards.shops.admin import OrderPayload, ShopAdmin, ShopRefused
from walletcards.shops.memory import MemoryShop
from walletcards.shops.shopify_admin import ShopifyAdmin
from walletcards.shops.woocommerce_admin import WooCommerceAdmin

pytestmark = pytest.mark.once


@dataclass
class Harness:
    admin: ShopAdmin
    customer: str  # a customer the shop knows
    topic: str  # an order topic the platform has
    codes: Callable[[], set[str]]  # the codes the shop holds, case-folded
    tags: Callable[[str], set[str]]
    add_order: Callable[[int, datetime], None]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(params=["memory", "shopify", "woocommerce"])
def shop(
    request: pytest.FixtureRequest, trust: ssl.SSLContext, shop_clock: FixedClock
) -> Iterator[Harness]:
    if request.param == "memory":
        memory = MemoryShop(clock=shop_clock, page_size=2)

        def add(number: int, at: datetime) -> None:
            memory.add_order(at, {"id": number})

        yield Harness(
            memory,
            "26",
            "orders/paid",
            lambda: {c.code.casefold() for c in memory.codes.values()},
            lambda ref: set(memory.tags[ref]),
            add,
        )
    elif request.param == "shopify":
        fake: FakeShopify = request.getfixturevalue("fake_shopify")
        client = ShopifyAdmin(
            SHOP, TOKEN, base_url=fake.url, clock=shop_clock, page_size=2, verify=trust
        )
        yield Harness(
            client,
            "7351204895634215987",
            "orders/paid",
            lambda: {str(c["code"]).casefold() for c in fake.codes.values()},
            lambda ref: set(fake.tags[f"gid://shopify/Customer/{ref}"]),
            lambda number, at: fake.orders.append(shopify_order(number, iso(at))),
        )
        client.close()
        assert fake.problems == []
    else:
        woo: FakeWooCommerce = request.getfixturevalue("fake_woo")
        woo.customers[26] = {"id": 26, "email": "john.doe@example.com", "meta_data": []}
        wclient = WooCommerceAdmin(
            woo.url, WOO_KEY, WOO_SECRET, clock=shop_clock, page_size=2, verify=trust
        )

        def woo_tags(ref: str) -> set[str]:
            tier = woo.tier(int(ref))
            return {tier} if tier else set()

        yield Harness(
            wclient,
            "26",
            "order.updated",
            lambda: {str(c["code"]).casefold() for c in woo.coupons.values()},
            woo_tags,
            lambda number, at: woo.orders.append(woo_order(number, iso(at).rstrip("Z"))),
        )
        wclient.close()
        assert woo.problems == []


def ids(orders: list[OrderPayload]) -> list[int]:
    return [int(order["id"]) for order in orders]


def test_a_code_is_created_unique_and_deleted_for_good(shop: Harness) -> None:
    made = shop.admin.create_code(
        "PTS-AB12",
        Decimal("5.00"),
        "USD",
        shop.customer,
        "ann@example.com",
        NOW + timedelta(days=7),
    )
    assert made.code == "PTS-AB12" and made.id
    assert shop.codes() == {"pts-ab12"}
    with pytest.raises(ShopRefused):
        shop.admin.create_code(
            "pts-ab12", Decimal("1.00"), "USD", None, None, NOW + timedelta(days=1)
        )
    shop.admin.delete_code(made.id)
    assert shop.codes() == set()
    with pytest.raises(ShopRefused):
        shop.admin.delete_code(made.id)


@pytest.mark.parametrize(
    ("amount", "expires", "code"),
    [
        (Decimal("5.00"), NOW, "EXPIRED"),
        (Decimal("5.00"), NOW - timedelta(days=1), "EXPIRED"),
        (Decimal("0"), NOW + timedelta(days=1), "INVALID"),
        (Decimal("5.001"), NOW + timedelta(days=1), "INVALID"),
    ],
)
def test_an_expired_or_invalid_code_is_refused_before_asking(
    shop: Harness, amount: Decimal, expires: datetime, code: str
) -> None:
    with pytest.raises(ShopRefused) as refused:
        shop.admin.create_code("PTS-X", amount, "USD", None, None, expires)
    assert refused.value.code == code
    assert shop.codes() == set()


def test_webhooks_are_created_and_listed(shop: Harness) -> None:
    assert shop.admin.list_webhooks() == []
    made = shop.admin.create_webhook(shop.topic, "https://cards.example.com/webhooks/demo/x", "s3")
    assert (made.topic, made.url) == (shop.topic, "https://cards.example.com/webhooks/demo/x")
    assert shop.admin.list_webhooks() == [made]


def test_tags_follow_the_tier(shop: Harness) -> None:
    shop.admin.tag_customer(shop.customer, ["gold"], [])
    assert shop.tags(shop.customer) == {"gold"}
    shop.admin.tag_customer(shop.customer, ["silver"], ["gold"])
    assert shop.tags(shop.customer) == {"silver"}
    shop.admin.tag_customer(shop.customer, [], ["gold"])  # not the tier it holds: kept
    assert shop.tags(shop.customer) == {"silver"}
    shop.admin.tag_customer(shop.customer, [], ["silver"])
    assert shop.tags(shop.customer) == set()


def test_orders_updated_since_come_in_pages_oldest_first(shop: Harness) -> None:
    since = NOW - timedelta(hours=1)
    shop.add_order(101, since - timedelta(minutes=5))  # before: not listed
    for minutes, number in ((10, 102), (20, 103), (30, 104)):
        shop.add_order(number, since + timedelta(minutes=minutes))
    first = shop.admin.orders_updated_since(since)
    assert ids(first.orders) == [102, 103] and first.cursor
    second = shop.admin.orders_updated_since(since, first.cursor)
    assert ids(second.orders) == [104] and second.cursor is None
