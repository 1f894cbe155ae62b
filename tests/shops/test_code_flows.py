"""Points spent online end to end, with the real shop clients against the loopback fakes:
reserve through the integration API -> the code in the fake shop -> a paid order carrying it
captures it -> its cancellation gives the points back once; an unused code expires and is
deleted in the shop; a shop refusing the code answers 502 with nothing reserved."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.kit.inbox import Deliver, DrainInbox
from tests.kit.programs import MakeProgram
from tests.kit.staff import make_staff
from tests.kit.webhooks import (
    ORDERS_SECRET,
    PUBLIC_URL,
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    fixture,
    post_orders,
    post_shopify,
)
from tests.shops.conftest import TOKEN, WOO_KEY
from tests.shops.conftest import WOO_SECRET as WOO_CONSUMER_SECRET
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, LedgerEntry, Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.verify import verify
from walletcards.shops import codes
from walletcards.sync.jobs import run_due

BASE = "/api/v1/programs/demo/redemptions"
SHOPIFY_CUSTOMER = "7351204895634215987"  # the Shopify fixture's customer (ann.lee@example.com)


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "wait", lambda seconds: None)


@pytest.fixture
def program(make_program: MakeProgram, monkeypatch: pytest.MonkeyPatch) -> Program:
    monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("DEMO_WOO_KEY", WOO_KEY)
    monkeypatch.setenv("DEMO_WOO_SECRET", WOO_CONSUMER_SECRET)
    return make_program(
        webhooks={
            "shopify_secret": SHOPIFY_SECRET,
            "shopify_shop_domain": SHOP,
            "woocommerce_secret": WOO_SECRET,
            "woocommerce_site_url": "https://shop.example.com",
            "orders_secret": ORDERS_SECRET,
        },
        shopify={"admin_token": "env:DEMO_SHOPIFY_TOKEN"},
        woocommerce={
            "site_url": "https://shop.example.com",
            "consumer_key": "env:DEMO_WOO_KEY",
            "consumer_secret": "env:DEMO_WOO_SECRET",
        },
    )


@pytest.fixture
def clients(shop_clients: Clients) -> Clients:
    """The shop admin clients point at the loopback fakes."""
    return shop_clients


@pytest.fixture
def client(
    app: Flask, program: Program, database: Database, clock: FixedClock, drain_inbox: DrainInbox
) -> FlaskClient:
    """A client, once the Shopify fixture's customer holds the points of a paid order."""
    test_client = app.test_client()
    paid = post_shopify(test_client, "orders/paid", fixture("shopify_order_paid.json"))
    assert paid.json == {"status": "accepted"}
    assert drain_inbox() == 1
    clock.advance(timedelta(days=15))
    run_due(database, clock.now())  # the return window ends: the points are spendable
    return test_client


@pytest.fixture
def integration(database: Database, program: Program) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_staff(database, 'shop@example.com', 'integration')}"}


def reserve(client: FlaskClient, headers: dict[str, str], channel: str, points: int = 200) -> Any:
    body = {"customer": {"email": "ann.lee@example.com"}, "points": points, "channel": channel}
    return client.post(BASE, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})


def available(database: Database) -> int:
    with database.transaction() as session:
        assert verify(session) == []
        return session.execute(select(Card.available)).scalar_one()


def redemption(database: Database) -> Redemption:
    with database.transaction() as session:
        return session.execute(select(Redemption)).scalar_one()


def entries(database: Database, kind: str) -> int:
    with database.transaction() as session:
        query = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == kind)
        return session.execute(query).scalar_one()


def test_shopify_code_captured_with_the_order_and_given_back_once_on_cancel(
    client: FlaskClient,
    integration: dict[str, str],
    database: Database,
    fake_shopify: FakeShopify,
    deliver: Deliver,
) -> None:
    before = available(database)
    made = reserve(client, integration, "shopify")
    assert made.status_code == 201, made.json
    code = made.json["redemption"]["code"]
    ((gid, sent),) = fake_shopify.codes.items()
    assert sent["code"] == code and sent["usageLimit"] == 1
    # the demo's max_share 50 %: the $2.00 code needs a $4.00 subtotal, and the shop checks it
    assert sent["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "4.00"}}
    assert f"gid://shopify/Customer/{SHOPIFY_CUSTOMER}" in str(sent)
    assert (redemption(database).shop_code_id, redemption(database).shop_state) == (gid, "live")
    assert available(database) == before - 200

    paid = fixture("shopify_order_paid.json")
    paid["id"] = 6000000000000000001
    paid["discount_codes"] = [{"code": code.lower(), "amount": "2.00", "type": "fixed_amount"}]
    assert deliver.shopify("orders/paid", paid)["status"] == "applied"
    spent = redemption(database)
    assert (spent.status, spent.order_ref) == ("captured", f"shopify:{SHOP}:order:{paid['id']}")
    assert entries(database, "redemption") == 1  # the spend the card shows

    cancelled = fixture("shopify_order_cancelled.json")
    cancelled["id"] = paid["id"]
    for _ in range(2):  # cancelled twice (two deliveries): given back once
        deliver.shopify("orders/cancelled", cancelled)
    back = redemption(database)
    assert (back.status, back.released_cause) == ("released", "order_cancelled")
    assert entries(database, "uncapture") == 1
    assert available(database) == before


def test_an_unused_code_expires_and_is_deleted_in_the_shop(
    client: FlaskClient,
    integration: dict[str, str],
    database: Database,
    clients: Clients,
    clock: FixedClock,
    fake_shopify: FakeShopify,
) -> None:
    before = available(database)
    assert reserve(client, integration, "shopify").status_code == 201
    assert len(fake_shopify.codes) == 1 and available(database) == before - 200
    clock.advance(timedelta(days=8))
    counts = run_due(database, clock.now(), clients, PUBLIC_URL)
    assert (counts["reservations_expired"], counts["shop_codes"]) == (1, 1)
    assert fake_shopify.codes == {}
    gone = redemption(database)
    assert (gone.status, gone.released_cause, gone.shop_state) == ("released", "expired", "deleted")
    assert available(database) == before
    again = run_due(database, clock.now(), clients, PUBLIC_URL)
    assert (again["reservations_expired"], again["shop_codes"]) == (0, 0)


def test_the_shop_refusing_answers_502_and_reserves_nothing(
    client: FlaskClient,
    integration: dict[str, str],
    database: Database,
    fake_shopify: FakeShopify,
) -> None:
    before = available(database)
    fake_shopify.refuse_next("discountCodeBasicCreate", "Code must be unique", "TAKEN")
    refused = reserve(client, integration, "shopify")
    assert refused.status_code == 502
    assert refused.json["error"]["code"] == "shop_refused"
    assert "Code must be unique" in refused.json["error"]["message"]
    assert fake_shopify.codes == {} and available(database) == before
    assert redemption(database).status == "released"


def test_woocommerce_coupon_captured_with_the_order(
    client: FlaskClient,
    integration: dict[str, str],
    database: Database,
    fake_woo: FakeWooCommerce,
    deliver: Deliver,
) -> None:
    before = available(database)
    made = reserve(client, integration, "woocommerce")
    assert made.status_code == 201, made.json
    assert available(database) == before - 200
    code = made.json["redemption"]["code"]
    (coupon,) = fake_woo.coupons.values()
    assert (coupon["code"].upper(), coupon["amount"], coupon["email_restrictions"]) == (
        code,
        "2.00",
        ["ann.lee@example.com"],
    )
    assert coupon["minimum_amount"] == "4.00"  # max_share 50 % of the cart
    order = fixture("woocommerce_order_processing.json")
    order["coupon_lines"] = [{"id": 321, "code": code.lower(), "discount": "2.00"}]
    assert deliver.woo(order)["status"] == "applied"
    spent = redemption(database)
    assert (spent.status, spent.order_ref) == ("captured", "woocommerce:shop.example.com:order:727")
    assert entries(database, "redemption") == 1


def test_signed_json_redemption_codes_capture(
    client: FlaskClient, integration: dict[str, str], database: Database, clock: FixedClock
) -> None:
    made = reserve(client, integration, "api")
    assert made.status_code == 201, made.json
    body: dict[str, Any] = {
        "id": "evt-9",
        "type": "order.paid",
        "order": {
            "id": "A-9",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "10.00"}],
            "redemption_codes": [made.json["redemption"]["code"]],
        },
        "customer": {"id": "c-9", "email": "c9@example.com"},
    }
    answer = post_orders(client, body, at=int(clock.now().timestamp()))
    assert answer.status_code == 200, answer.json
    spent = redemption(database)
    assert (spent.status, spent.order_ref) == ("captured", "orders:order:A-9")
    too_many = {**body, "id": "evt-10"}
    too_many["order"] = {**body["order"], "id": "A-10", "redemption_codes": ["X"] * 21}
    refused = post_orders(client, too_many, at=int(clock.now().timestamp()))
    assert refused.status_code == 422


def test_a_paid_order_over_the_share_still_captures_and_is_logged(
    client: FlaskClient,
    integration: dict[str, str],
    database: Database,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The order paid with the code: the discount was given, so the points are spent (left
    reserved they would come back at expiry and be spent twice); the owner sees a warning."""
    made = reserve(client, integration, "api")
    body: dict[str, Any] = {
        "id": "evt-11",
        "type": "order.paid",
        "order": {
            "id": "A-11",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "1.00"}],  # $3.00 before the $2.00 code: over 50 %
            "redemption_codes": [made.json["redemption"]["code"]],
        },
        "customer": {"id": "c-11", "email": "c11@example.com"},
    }
    with caplog.at_level("WARNING", logger="walletcards.loyalty.redemption_orders"):
        answer = post_orders(client, body, at=int(clock.now().timestamp()))
    assert answer.status_code == 200, answer.json
    assert redemption(database).status == "captured"
    assert any("max_share" in record.getMessage() for record in caplog.records)
