"""The real WooCommerce REST v3 client against the loopback fake."""

from __future__ import annotations

import socket
import ssl
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.shops.conftest import NOW, WOO_KEY, WOO_SECRET
from tests.shops.orders_data import woo_order
from walletcards.orders import woocommerce as intake
from walletcards.shops.admin import ShopRefused, ShopUnavailable
from walletcards.shops.woocommerce_admin import WooCommerceAdmin

pytestmark = pytest.mark.once

WEEK = NOW + timedelta(days=7)
SITE = "shop.example.com"


def test_a_code_is_a_single_use_fixed_cart_coupon_for_one_address(
    woo: WooCommerceAdmin, fake_woo: FakeWooCommerce
) -> None:
    made = woo.create_code("PTS-AB12", Decimal("5"), "USD", "26", "ann@example.com", WEEK)
    coupon = fake_woo.coupons[int(made.id)]
    assert made.code == "PTS-AB12"
    assert {k: coupon[k] for k in ("discount_type", "amount", "usage_limit")} == {
        "discount_type": "fixed_cart",
        "amount": "5.00",
        "usage_limit": 1,
    }
    assert coupon["usage_limit_per_user"] == 1 and coupon["individual_use"] is True
    assert coupon["email_restrictions"] == ["ann@example.com"]
    assert coupon["date_expires_gmt"] == "2026-12-08T12:00:00"
    woo.delete_code(made.id)
    assert fake_woo.calls[-1][2] == {"force": "true"}


def test_a_minimum_is_the_coupons_minimum_amount(
    woo: WooCommerceAdmin, fake_woo: FakeWooCommerce
) -> None:
    made = woo.create_code("PTS-MIN", Decimal("5"), "USD", None, None, WEEK, minimum=Decimal(10))
    assert fake_woo.coupons[int(made.id)]["minimum_amount"] == "10.00"
    without = woo.create_code("PTS-NOMIN", Decimal("5"), "USD", None, None, WEEK)
    assert "minimum_amount" not in fake_woo.coupons[int(without.id)]


def test_individual_use_is_a_setting_and_amounts_follow_the_currency(
    fake_woo: FakeWooCommerce, trust: ssl.SSLContext
) -> None:
    client = WooCommerceAdmin(fake_woo.url, WOO_KEY, WOO_SECRET, individual_use=False, verify=trust)
    made = client.create_code(
        "PTS-YEN", Decimal("500"), "JPY", None, None, WEEK + timedelta(days=999)
    )
    coupon = fake_woo.coupons[int(made.id)]
    assert (coupon["individual_use"], coupon["amount"], coupon["email_restrictions"]) == (
        False,
        "500",
        [],
    )
    client.close()


def test_refusals_carry_woocommerce_s_code_and_failures_are_unavailable(
    woo: WooCommerceAdmin, fake_woo: FakeWooCommerce
) -> None:
    woo.create_code("PTS-1", Decimal("1.00"), "USD", None, None, WEEK)
    with pytest.raises(ShopRefused) as refused:
        woo.create_code("PTS-1", Decimal("1.00"), "USD", None, None, WEEK)
    assert refused.value.code == "woocommerce_rest_coupon_code_already_exists"
    with pytest.raises(ShopRefused) as missing:
        woo.delete_code("999")
    assert missing.value.code == "woocommerce_rest_shop_coupon_invalid_id"
    with pytest.raises(ShopRefused, match="INVALID"):
        woo.delete_code("../orders/1")
    for status in (500, 503, 429):
        fake_woo.statuses = [status]
        with pytest.raises(ShopUnavailable, match=str(status)):
            woo.list_webhooks()


def test_a_wrong_secret_is_refused_and_never_shown(
    fake_woo: FakeWooCommerce, trust: ssl.SSLContext
) -> None:
    client = WooCommerceAdmin(fake_woo.url, WOO_KEY, "cs_wrong_secret_000", verify=trust)
    with pytest.raises(ShopRefused) as refused:
        client.list_webhooks()
    assert refused.value.code == "woocommerce_rest_cannot_view"
    for shown in (str(refused.value), repr(client)):
        assert "cs_" not in shown and "ck_" not in shown
    client.close()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = WooCommerceAdmin(f"https://127.0.0.1:{port}", WOO_KEY, WOO_SECRET, verify=trust)
    with pytest.raises(ShopUnavailable):
        nowhere.list_webhooks()
    nowhere.close()


def test_plain_http_only_when_allowed() -> None:
    with pytest.raises(ValueError, match="https"):
        WooCommerceAdmin("http://127.0.0.1:1", WOO_KEY, WOO_SECRET)
    plain = FakeWooCommerce(WOO_KEY, WOO_SECRET)
    url = plain.start()
    try:
        client = WooCommerceAdmin(url, WOO_KEY, WOO_SECRET, allow_http=True)
        assert client.list_webhooks() == []
        client.close()
    finally:
        plain.stop()


def test_webhooks_send_their_secret_and_are_listed_across_pages(
    woo: WooCommerceAdmin, fake_woo: FakeWooCommerce
) -> None:
    made = woo.create_webhook("order.updated", "https://cards.example.com/webhooks/d/woo", "s3c")
    assert fake_woo.webhooks[0]["has_secret"] is True
    assert made.topic == "order.updated"
    fake_woo.webhooks += [
        {"id": 800 + i, "topic": "order.created", "delivery_url": f"https://x.example/{i}"}
        for i in range(100)
    ]
    listed = woo.list_webhooks()
    assert len(listed) == 101 and listed[0] == made
    with pytest.raises(ShopRefused, match="topic"):
        woo.create_webhook("order.paid", "https://cards.example.com/webhooks/d/woo")


def test_orders_since_are_what_the_webhook_would_have_said(
    woo: WooCommerceAdmin, fake_woo: FakeWooCommerce
) -> None:
    fake_woo.orders = [woo_order(727, "2026-12-01T11:30:00"), woo_order(726, "2026-11-01T00:00:00")]
    page = woo.orders_updated_since(NOW - timedelta(hours=1))
    assert [o["id"] for o in page.orders] == [727] and page.cursor is None
    assert fake_woo.calls[-1][2] == {
        "modified_after": "2026-12-01T11:00:00",
        "dates_are_gmt": "true",
        "per_page": "100",
        "orderby": "id",
        "order": "asc",
        "page": "1",
    }
    headers = {
        "x-wc-webhook-topic": "order.updated",
        "x-wc-webhook-source": f"https://{SITE}/",
        "x-wc-webhook-delivery-id": "reconcile-1",
    }
    delivery = intake.read(headers, page.orders[0], "USD", SITE)
    assert [e.kind for e in delivery.events] == ["paid"]


def test_the_tier_is_one_customer_meta_value(
    woo: WooCommerceAdmin, fake_woo: FakeWooCommerce
) -> None:
    fake_woo.customers[26] = {"id": 26, "meta_data": [{"id": 1, "key": "other", "value": "x"}]}
    woo.tag_customer("26", ["gold"], ["silver"])
    assert fake_woo.tier(26) == "gold"
    assert {m["key"] for m in fake_woo.customers[26]["meta_data"]} == {"other", "walletcards_tier"}
    with pytest.raises(ValueError, match="one tier"):
        woo.tag_customer("26", ["gold", "silver"], [])
    with pytest.raises(ShopRefused) as unknown:
        woo.tag_customer("27", ["gold"], [])
    assert unknown.value.code == "woocommerce_rest_invalid_id"
