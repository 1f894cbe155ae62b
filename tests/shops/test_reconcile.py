"""Reconciliation: orders whose webhook never arrived, read back from the shop (the real
clients, through ``Clients.shops``, against the loopback fakes) and applied once."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.fakes.memory import memory_clients
from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.kit.programs import MakeCard, MakeProgram, reload_card
from tests.loyalty.test_ledger import give
from tests.shops.conftest import NOW, SHOP, TOKEN, WOO_KEY, WOO_SECRET
from tests.shops.orders_data import fixture, shopify_order, shopify_refund, woo_order
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import reservations
from walletcards.loyalty.models import LedgerEntry, Order, Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.orders import intake, reconcile
from walletcards.orders.models import InboxDelivery, ShopWatermark
from walletcards.orders.shopify import read as read_shopify
from walletcards.settings import Secret, Settings
from walletcards.shops.clients import ShopClients
from walletcards.sync.jobs import run_due

URL = "https://cards.example"
SHOPIFY = {"admin_token": "env:DEMO_SHOPIFY_TOKEN"}
WOO = {
    "site_url": "https://shop.demo-coffee.example",
    "consumer_key": "env:DEMO_WOO_KEY",
    "consumer_secret": "env:DEMO_WOO_CONSUMER_SECRET",
}


@pytest.fixture
def shops(
    fake_shopify: FakeShopify,
    fake_woo: FakeWooCommerce,
    trust: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ShopClients]:
    monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("DEMO_WOO_KEY", WOO_KEY)
    monkeypatch.setenv("DEMO_WOO_CONSUMER_SECRET", WOO_SECRET)
    settings = Settings(
        "sqlite://",
        URL,
        Secret("s" * 32),
        shopify_api_url=fake_shopify.url,
        woocommerce_api_url=fake_woo.url,
    )
    clients = ShopClients(settings, FixedClock(NOW), verify=trust)
    yield clients
    clients.close()
    assert fake_shopify.problems == [] and fake_woo.problems == []


@pytest.fixture
def shop_program(make_program: MakeProgram) -> Program:
    return make_program(shopify=SHOPIFY, woocommerce=WOO)


def run(database: Database, shops: ShopClients, program: Program, platform: str) -> int:
    ctx = intake.Context(URL, NOW)
    return reconcile.reconcile_shop(database, shops, program, platform, ctx)


def counts(database: Database) -> tuple[int, int, list[str]]:
    with database.transaction() as session:
        orders = session.execute(select(func.count()).select_from(Order)).scalar_one()
        entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
        outcomes = list(session.execute(select(InboxDelivery.outcome)).scalars())
    return orders, entries, outcomes


def watermark(database: Database, program: Program, platform: str) -> ShopWatermark | None:
    with database.transaction() as session:
        return session.get(ShopWatermark, (program.id, platform))


def test_a_shopify_order_never_delivered_is_applied_once(
    database: Database, shops: ShopClients, shop_program: Program, fake_shopify: FakeShopify
) -> None:
    fake_shopify.orders = [shopify_order(updated_at="2026-12-01T11:30:00Z")]
    assert run(database, shops, shop_program, "shopify") == 1
    orders, entries, outcomes = counts(database)
    assert orders == 1 and entries >= 1 and outcomes == ["reconciled"]
    mark = watermark(database, shop_program, "shopify")
    assert mark is not None and mark.updated_after == datetime.fromisoformat("2026-12-01T11:30Z")
    assert mark.error is None

    # read again (the overlap): nothing twice, no new inbox row
    assert run(database, shops, shop_program, "shopify") == 0
    assert counts(database) == (orders, entries, ["reconciled"])


def test_an_undelivered_order_with_a_points_code_captures_it_once(
    database: Database,
    shops: ShopClients,
    shop_program: Program,
    fake_shopify: FakeShopify,
    make_card: MakeCard,
) -> None:
    """The order that used a reservation's code never came as a webhook: reconciliation
    applies it and captures the reservation, once; reading it again, and the webhook arriving
    late after all, change nothing."""
    card = make_card(shop_program, email="mira@example.com", name="Mira")  # not the buyer
    clock = FixedClock(NOW)
    give(database, card, clock, 500, "opening")
    with database.transaction() as session:
        held = reservations.reserve(
            session,
            shop_program,
            reload_card(session, card.id),
            200,
            channel="api",
            reference=None,
            actor="staff:1",
            key="r-1",
            now=NOW,
        )
        code, held_id = held.code, held.id
    assert code is not None
    order = shopify_order(updated_at="2026-12-01T11:30:00Z")
    order["discountCodes"] = ["SPEND5", code.lower()]  # the shop's own code, and ours
    fake_shopify.orders = [order]
    assert run(database, shops, shop_program, "shopify") == 1

    def state() -> tuple[str, str | None, int, int, list[str]]:
        with database.transaction() as session:
            found = session.get(Redemption, held_id)
            assert found is not None
            spends = session.execute(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.kind == "redemption")
            ).scalar_one()
            available = reload_card(session, card.id).available
        return found.status, found.order_ref, spends, available, counts(database)[2]

    captured = state()
    assert captured == (
        "captured",
        f"shopify:{SHOP}:order:5899425235089482367",
        1,
        300,
        ["reconciled"],
    )
    assert run(database, shops, shop_program, "shopify") == 0
    assert state() == captured

    late = fixture("shopify_order_paid.json")
    assert str(late["id"]) == "5899425235089482367"
    late["discount_codes"] = [{"code": code, "amount": "2.00", "type": "fixed_amount"}]
    headers = {
        "x-shopify-topic": "orders/paid",
        "x-shopify-shop-domain": SHOP,
        "x-shopify-webhook-id": "webhook-late",
    }
    with database.transaction() as session:
        program = session.get(Program, shop_program.id)
        assert program is not None
        delivery = read_shopify(headers, late, "USD", SHOP)
        outcome = intake.receive(session, program, delivery, b"{}", intake.Context(URL, NOW))
    assert outcome["status"] == "duplicate"
    status, ref, spends, available, _ = state()
    assert (status, ref, spends, available) == captured[:4]


def test_a_refund_since_is_applied_after_the_order(
    database: Database, shops: ShopClients, shop_program: Program, fake_shopify: FakeShopify
) -> None:
    refunded = shopify_order(
        updated_at="2026-12-01T11:40:00Z", status="PARTIALLY_REFUNDED", refunds=[shopify_refund(1)]
    )
    fake_shopify.orders = [refunded]
    assert run(database, shops, shop_program, "shopify") == 2  # the order, then its refund
    assert counts(database)[2] == ["reconciled", "reconciled"]


def test_an_order_already_received_is_not_applied_twice(
    database: Database, shops: ShopClients, shop_program: Program, fake_shopify: FakeShopify
) -> None:
    headers = {
        "x-shopify-topic": "orders/paid",
        "x-shopify-shop-domain": SHOP,
        "x-shopify-webhook-id": "webhook-1",
    }
    body = fixture("shopify_order_paid.json")
    with database.transaction() as session:
        program = session.get(Program, shop_program.id)
        assert program is not None
        delivery = read_shopify(headers, body, "USD", SHOP)
        intake.receive(session, program, delivery, b"{}", intake.Context(URL, NOW))
    before = counts(database)
    fake_shopify.orders = [shopify_order(updated_at="2026-12-01T11:30:00Z")]
    assert run(database, shops, shop_program, "shopify") == 0
    assert counts(database) == before
    mark = watermark(database, shop_program, "shopify")
    assert mark is not None and mark.updated_after == datetime.fromisoformat("2026-12-01T11:30Z")


def test_a_woocommerce_order_never_delivered_is_applied_once(
    database: Database, shops: ShopClients, shop_program: Program, fake_woo: FakeWooCommerce
) -> None:
    fake_woo.orders = [woo_order(727, "2026-12-01T11:30:00"), woo_order(726, "2026-11-01T00:00")]
    assert run(database, shops, shop_program, "woocommerce") == 1  # 726 is older than a day
    assert run(database, shops, shop_program, "woocommerce") == 0
    orders, _, outcomes = counts(database)
    assert orders == 1 and outcomes == ["reconciled"]
    mark = watermark(database, shop_program, "woocommerce")
    assert mark is not None and mark.updated_after == datetime.fromisoformat("2026-12-01T11:30Z")


def test_the_watermark_advances_and_an_outage_leaves_it(
    database: Database, shops: ShopClients, shop_program: Program, fake_shopify: FakeShopify
) -> None:
    fake_shopify.orders = [shopify_order(1, updated_at="2026-12-01T11:00:00Z")]
    assert run(database, shops, shop_program, "shopify") == 1
    fake_shopify.orders.append(shopify_order(2, updated_at="2026-12-01T11:50:00Z"))
    fake_shopify.statuses = [503] * 10  # every retry answered 503
    assert run(database, shops, shop_program, "shopify") == 0
    mark = watermark(database, shop_program, "shopify")
    assert mark is not None and mark.updated_after == datetime.fromisoformat("2026-12-01T11:00Z")
    assert mark.error
    fake_shopify.statuses = []
    assert run(database, shops, shop_program, "shopify") == 1
    mark = watermark(database, shop_program, "shopify")
    assert mark is not None and mark.updated_after == datetime.fromisoformat("2026-12-01T11:50Z")
    assert mark.error is None


def test_the_job_runs_each_shop_every_so_often(
    database: Database, shop_program: Program, make_program: MakeProgram
) -> None:
    memory = memory_clients(FixedClock(NOW))
    shop = memory.shops.add(shop_program.slug, "woocommerce")
    shop.add_order(NOW - timedelta(minutes=5), woo_order(727, "2026-12-01T11:55:00"))
    assert run_due(database, NOW, memory.clients, URL)["orders_reconciled"] == 1
    assert (
        run_due(database, NOW + timedelta(minutes=1), memory.clients, URL)["orders_reconciled"] == 0
    )
    # not due again within 15 minutes (the order's new tier tagged the customer once)
    assert shop.calls == ["orders_updated_since", "tag_customer"]
    run_due(database, NOW + reconcile.EVERY, memory.clients, URL)
    assert shop.calls.count("orders_updated_since") == 2
    assert "orders_reconciled" not in run_due(database, NOW + reconcile.EVERY * 2)
