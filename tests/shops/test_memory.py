"""The in-memory shop's own knobs: scripted refusals and outages, recorded calls, orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.shops.conftest import NOW
from walletcards.clock import FixedClock
from walletcards.shops.admin import ShopAdmin, ShopRefused, ShopUnavailable
from walletcards.shops.memory import MemoryShop

pytestmark = pytest.mark.once


def test_refusals_and_outages_are_scripted_per_operation() -> None:
    shop = MemoryShop(clock=FixedClock(NOW))
    shop.refuse_next("create_code", "Customer is not eligible", "INVALID")
    shop.fail_next("create_code", times=2)
    week = NOW + timedelta(days=7)
    with pytest.raises(ShopRefused, match="not eligible"):
        shop.create_code("PTS-1", Decimal("5.00"), "USD", "26", None, week)
    for _ in range(2):
        with pytest.raises(ShopUnavailable):
            shop.create_code("PTS-1", Decimal("5.00"), "USD", "26", None, week)
    made = shop.create_code("PTS-1", Decimal("5"), "USD", "26", "a@example.com", week)
    held = shop.codes[made.id]
    assert (held.amount, held.customer_ref, held.email) == ("5.00", "26", "a@example.com")
    assert shop.calls == ["create_code"] * 4


def test_a_newer_version_of_an_order_replaces_the_older() -> None:
    shop = MemoryShop()
    shop.add_order(NOW, {"id": 1, "status": "processing"})
    shop.add_order(NOW + timedelta(hours=1), {"id": 1, "status": "refunded"})
    page = shop.orders_updated_since(NOW - timedelta(days=1))
    assert page.orders == [{"id": 1, "status": "refunded"}] and page.cursor is None


def test_it_is_a_shop_admin() -> None:
    shop: ShopAdmin = MemoryShop()
    assert shop.list_webhooks() == []
