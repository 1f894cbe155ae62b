"""Genuine signatures, forged effects: Shopify and WooCommerce sign only the body, so a
captured body and its signature may be re-sent with other (unsigned) headers. The shop header
must be the programme's pinned shop, the order's identity comes from the pin, and the topic
must agree with the signed body; otherwise nothing is written."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.kit.inbox import DrainInbox
from tests.kit.programs import MakeProgram, demo_document
from tests.kit.webhooks import (
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    error_shaped,
    fixture,
    post_shopify,
    post_woo,
    written,
)
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.config import parse_program
from walletcards.loyalty.models import Card, Customer, Order
from walletcards.loyalty.programs import apply_program
from walletcards.orders.signatures import base64_hmac

PAID = fixture("shopify_order_paid.json")
CANCELLED = fixture("shopify_order_cancelled.json")
REFUND = fixture("shopify_refund_partial.json")
WOO = fixture("woocommerce_order_processing.json")


def resend(client: FlaskClient, topic: str, body: bytes, **headers: str) -> TestResponse:
    """Re-send a captured body with its captured signature and some headers changed."""
    sent = {"X-Shopify-Hmac-Sha256": base64_hmac(SHOPIFY_SECRET, body), **headers}
    return post_shopify(client, topic, body, secret=None, headers=sent)


def test_one_captured_paid_order_resent_for_other_shops_makes_no_new_card(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    body = json.dumps(PAID).encode()
    assert resend(client, "orders/paid", body).status_code == 200
    drain_inbox()
    before = written(database)
    for shop in ("evil.myshopify.com", "other-shop.myshopify.com", f"{SHOP}.evil.example"):
        forged = resend(client, "orders/paid", body, **{"X-Shopify-Shop-Domain": shop})
        error_shaped(forged, 401, "unknown_shop")
    assert written(database) == before
    with database.transaction() as session:
        assert len(session.execute(select(Card)).all()) == 1
        assert len(session.execute(select(Customer)).all()) == 1


def test_a_delivery_naming_another_shop_first_writes_nothing(
    client: FlaskClient, database: Database
) -> None:
    before = written(database)
    forged = post_shopify(
        client, "orders/paid", PAID, headers={"X-Shopify-Shop-Domain": "evil.myshopify.com"}
    )
    assert "shopify_shop_domain" in error_shaped(forged, 401, "unknown_shop")
    assert written(database) == before


def test_the_shop_header_is_compared_normalised_and_identity_comes_from_the_pin(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    first = post_shopify(
        client, "orders/paid", PAID, headers={"X-Shopify-Shop-Domain": SHOP.upper()}
    )
    second = post_shopify(
        client,
        "orders/paid",
        {**PAID, "id": 1, "customer": {**PAID["customer"], "id": 2}},
        headers={"X-Shopify-Shop-Domain": f"https://{SHOP}/"},
    )
    assert first.status_code == second.status_code == 200, (first.json, second.json)
    drain_inbox()
    with database.transaction() as session:
        sources = set(session.execute(select(Order.source)).scalars())
        customers = set(session.execute(select(Customer.external_id)).scalars())
    assert sources == {f"shopify:{SHOP}"}
    assert customers == {
        f"shopify:{SHOP}:customer:7351204895634215987",
        f"shopify:{SHOP}:customer:2",
    }


def test_a_captured_paid_order_resent_as_cancelled_cancels_nothing(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    body = json.dumps(PAID).encode()
    resend(client, "orders/paid", body)
    drain_inbox()
    before = written(database)
    forged = resend(client, "orders/cancelled", body)
    assert "cancelled_at" in error_shaped(forged, 422, "invalid_payload")
    assert written(database) == before
    with database.transaction() as session:
        assert session.execute(select(Order.status)).scalar_one() == "paid"


def test_a_captured_cancelled_order_resent_as_paid_awards_nothing(
    client: FlaskClient, database: Database
) -> None:
    body = json.dumps(CANCELLED).encode()
    for topic in ("orders/paid", "orders/create"):
        error_shaped(resend(client, topic, body), 422, "invalid_payload")
    assert written(database) == (0, 0, 0, 0, 0, 0)


def test_an_unpaid_order_sent_as_orders_paid_is_refused(
    client: FlaskClient, database: Database
) -> None:
    for status in ("pending", "authorized", "voided", "refunded", None):
        response = post_shopify(client, "orders/paid", {**PAID, "financial_status": status})
        assert "financial_status" in error_shaped(response, 422, "invalid_payload")
    partially = post_shopify(client, "orders/paid", {**PAID, "financial_status": "partially_paid"})
    assert partially.status_code == 200
    assert written(database)[0] == 1  # only the partially paid order


def test_a_refund_and_an_order_cannot_stand_in_for_each_other(
    client: FlaskClient, database: Database
) -> None:
    post_shopify(client, "orders/paid", PAID)
    before = written(database)
    as_refund = post_shopify(client, "refunds/create", CANCELLED)
    as_order = post_shopify(client, "orders/cancelled", REFUND)
    as_paid = post_shopify(client, "orders/paid", REFUND)
    error_shaped(as_refund, 422, "invalid_payload")
    error_shaped(as_order, 422, "invalid_payload")
    error_shaped(as_paid, 422, "invalid_payload")
    assert written(database) == before


def test_woocommerce_delivery_naming_another_site_is_refused(
    client: FlaskClient, database: Database
) -> None:
    body = json.dumps(WOO).encode()
    captured = {"X-WC-Webhook-Signature": base64_hmac(WOO_SECRET, body)}
    assert post_woo(client, body, secret=None, headers=captured).status_code == 200
    before = written(database)
    for site in (
        "https://evil.example/",
        "https://shop.example.com.evil.example",
        "https://shop.example.com/other",
    ):
        forged = post_woo(
            client, body, secret=None, headers={**captured, "X-WC-Webhook-Source": site}
        )
        assert "woocommerce_site_url" in error_shaped(forged, 401, "unknown_shop")
    assert written(database) == before


def test_woocommerce_site_is_compared_normalised_and_identity_comes_from_the_pin(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    for site in ("HTTP://SHOP.example.com", "https://shop.example.com:443"):
        response = post_woo(client, {**WOO, "id": len(site)}, headers={"X-WC-Webhook-Source": site})
        assert response.status_code == 200, response.json
        drain_inbox()
    with database.transaction() as session:
        assert set(session.execute(select(Order.source)).scalars()) == {
            "woocommerce:shop.example.com"
        }
        customer = session.execute(select(Customer)).scalar_one()
    assert customer.external_id == "woocommerce:shop.example.com:customer:26"


def test_woocommerce_body_of_another_resource_sent_as_an_order_is_refused(
    client: FlaskClient, database: Database
) -> None:
    product = {"id": 93, "name": "Woo Single #1", "status": "publish", "price": "3.00"}
    error_shaped(post_woo(client, product, topic="order.updated"), 422, "invalid_payload")
    assert written(database) == (0, 0, 0, 0, 0, 0)


def test_a_programme_stored_without_a_pinned_shop_refuses_its_shop_deliveries(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    # applied before pins existed: the stored document still loads, its shop sources refuse
    legacy = demo_document(
        webhooks={"shopify_secret": SHOPIFY_SECRET, "woocommerce_secret": WOO_SECRET}
    )
    with database.transaction() as session:
        apply_program(session, parse_program(legacy, stored=True), clock.now())
    shopify = post_shopify(client, "orders/paid", PAID)
    woo = post_woo(client, WOO)
    assert "webhooks.shopify_shop_domain" in error_shaped(shopify, 404, "source_not_enabled")
    assert "webhooks.woocommerce_site_url" in error_shaped(woo, 404, "source_not_enabled")
    assert written(database) == (0, 0, 0, 0, 0, 0)


def test_pins_are_per_programme(
    client: FlaskClient, database: Database, make_program: MakeProgram, drain_inbox: DrainInbox
) -> None:
    make_program(
        slug="other",
        webhooks={"shopify_secret": SHOPIFY_SECRET, "shopify_shop_domain": "other.myshopify.com"},
    )
    here = post_shopify(client, "orders/paid", PAID, slug="other")
    error_shaped(here, 401, "unknown_shop")
    there = post_shopify(
        client,
        "orders/paid",
        PAID,
        slug="other",
        headers={"X-Shopify-Shop-Domain": "other.myshopify.com"},
    )
    assert there.status_code == 200
    drain_inbox()
    with database.transaction() as session:
        assert session.execute(select(Order.source)).scalar_one() == "shopify:other.myshopify.com"
