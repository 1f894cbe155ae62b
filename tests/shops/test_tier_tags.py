"""Every tier change tags the shop's customer: Shopify ``loyalty-tier:<code>`` (tagsAdd /
tagsRemove through the real client against the loopback fake), WooCommerce meta
``walletcards_tier``; sent by the jobs outside transactions, retried per customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests.fakes.memory import memory_clients
from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.kit.inbox import DrainInbox
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import (
    ORDERS_SECRET,
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    fixture,
    post_shopify,
    post_woo,
)
from tests.shops.conftest import TOKEN, WOO_KEY
from tests.shops.conftest import WOO_SECRET as WOO_CONSUMER_SECRET
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.cards import create_customer, issue_card
from walletcards.loyalty.models import Card, Program
from walletcards.outbound import outbox
from walletcards.shops.models import ShopTierTag
from walletcards.shops.tier_jobs import sync_tier_tags
from walletcards.sync.jobs import run_due

SHOPIFY_CUSTOMER = "gid://shopify/Customer/7351204895634215987"  # the Shopify fixture's
WOO_CUSTOMER = 26  # the WooCommerce fixture's customer_id
WEBHOOKS = {
    "shopify_secret": SHOPIFY_SECRET,
    "shopify_shop_domain": SHOP,
    "woocommerce_secret": WOO_SECRET,
    "woocommerce_site_url": "https://shop.example.com",
    "orders_secret": ORDERS_SECRET,
}
WOOCOMMERCE = {
    "site_url": "https://shop.example.com",
    "consumer_key": "env:DEMO_WOO_KEY",
    "consumer_secret": "env:DEMO_WOO_SECRET",
}


@pytest.fixture
def make_shop_program(make_program: MakeProgram, monkeypatch: pytest.MonkeyPatch) -> MakeProgram:
    monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("DEMO_WOO_KEY", WOO_KEY)
    monkeypatch.setenv("DEMO_WOO_SECRET", WOO_CONSUMER_SECRET)
    return make_program


@pytest.fixture
def clients(shop_clients: Clients) -> Clients:
    """The shop admin clients point at the loopback fakes."""
    return shop_clients


def tag_rows(database: Database) -> list[ShopTierTag]:
    with database.transaction() as session:
        return list(session.execute(select(ShopTierTag).order_by(ShopTierTag.id)).scalars())


def test_a_tier_change_tags_the_shopify_customer_and_removes_the_old_tag(
    make_shop_program: MakeProgram,
    app: Flask,
    database: Database,
    clients: Clients,
    clock: FixedClock,
    fake_shopify: FakeShopify,
    drain_inbox: DrainInbox,
) -> None:
    make_shop_program(webhooks=WEBHOOKS, shopify={"admin_token": "env:DEMO_SHOPIFY_TOKEN"})
    fake_shopify.tags[SHOPIFY_CUSTOMER] = {"vip", "loyalty-tier:gold"}  # gold: a stale tag
    client = app.test_client()
    assert (
        post_shopify(client, "orders/paid", fixture("shopify_order_paid.json")).status_code == 200
    )
    assert drain_inbox() == 1
    assert fake_shopify.tags[SHOPIFY_CUSTOMER] == {"vip", "loyalty-tier:gold"}  # not in the request
    assert run_due(database, clock.now(), clients)["shop_tier_tags"] == 1
    assert fake_shopify.tags[SHOPIFY_CUSTOMER] == {"vip", "loyalty-tier:bronze"}
    second = fixture("shopify_order_paid.json")
    second["id"] = 6000000000000000002
    assert post_shopify(client, "orders/paid", second).status_code == 200  # 2nd order: Silver
    assert drain_inbox() == 1
    run_due(database, clock.now(), clients)
    assert fake_shopify.tags[SHOPIFY_CUSTOMER] == {"vip", "loyalty-tier:silver"}
    ((row,),) = [tag_rows(database)]
    assert (row.status, row.tier_code, row.previous_code, row.revision) == (
        "done",
        "silver",
        "bronze",
        2,
    )
    assert run_due(database, clock.now(), clients)["shop_tier_tags"] == 0  # nothing more to do


def test_a_tier_change_sets_the_woocommerce_customers_meta(
    make_shop_program: MakeProgram,
    app: Flask,
    database: Database,
    clients: Clients,
    clock: FixedClock,
    fake_woo: FakeWooCommerce,
    drain_inbox: DrainInbox,
) -> None:
    make_shop_program(webhooks=WEBHOOKS, woocommerce=WOOCOMMERCE)
    fake_woo.customers[WOO_CUSTOMER] = {"id": WOO_CUSTOMER, "meta_data": []}
    client = app.test_client()
    answer = post_woo(client, fixture("woocommerce_order_processing.json"))
    assert answer.status_code == 200, answer.json
    assert drain_inbox() == 1
    run_due(database, clock.now(), clients)
    assert fake_woo.tier(WOO_CUSTOMER) == "bronze"


def shop_card(
    database: Database, program: Program, clock: FixedClock, external_id: str | None
) -> Card:
    with database.transaction() as session:
        person = create_customer(
            session, program, clock.now(), external_id=external_id, email=f"{external_id}@x.example"
        )
        return issue_card(session, program, person, clock.now())


def change_tier(
    database: Database, program: Program, card: Card, tier: str | None, clock: FixedClock
) -> None:
    with database.transaction() as session:
        found = session.get(Card, card.id)
        assert found is not None
        before, found.tier_code = found.tier_code, tier
        outbox.tier_changed(session, program, found, before, clock.now())


def test_a_failing_shop_call_retries_and_does_not_hold_up_other_customers(
    make_shop_program: MakeProgram, database: Database, clock: FixedClock
) -> None:
    program = make_shop_program(
        webhooks=WEBHOOKS, shopify={"admin_token": "env:DEMO_SHOPIFY_TOKEN"}
    )
    memory = memory_clients(clock)
    shop = memory.shops.add("demo", "shopify")
    cards = [shop_card(database, program, clock, f"shopify:{SHOP}:customer:{n}") for n in (1, 2, 3)]
    till = shop_card(database, program, clock, None)  # the shop does not know them: no row
    for card in (*cards, till):
        change_tier(database, program, card, "gold", clock)
    assert len(tag_rows(database)) == 3
    shop.fail_next("tag_customer")  # the 1st customer's call: the shop is down
    shop.refuse_next("tag_customer", "Customer does not exist", "NOT_FOUND")  # the 2nd's
    assert sync_tier_tags(database, memory.clients, clock.now()) == 1
    assert shop.tags["3"] == {"loyalty-tier:gold"} and not shop.tags["1"]
    first, second, third = tag_rows(database)
    assert (first.status, first.attempts) == ("pending", 1) and first.last_error
    assert first.next_attempt_at > clock.now()
    assert (second.status, third.status) == ("failed", "done")
    assert sync_tier_tags(database, memory.clients, clock.now()) == 0  # not due yet
    clock.advance(timedelta(minutes=2))
    assert sync_tier_tags(database, memory.clients, clock.now()) == 1
    assert shop.tags["1"] == {"loyalty-tier:gold"}
    # two changes before the next run: the latest is sent, the tags of the others removed
    change_tier(database, program, cards[0], "silver", clock)
    change_tier(database, program, cards[0], None, clock)
    assert sync_tier_tags(database, memory.clients, clock.now()) == 1
    assert shop.tags["1"] == set()
