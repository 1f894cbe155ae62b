"""Bounds at the edge of every webhook: a validly signed body with NUL bytes, values longer
than their column, numbers beyond BIGINT or Decimal, negative amounts, odd signature headers,
is a 4xx in the error shape and writes nothing (a 500 would make Shopify retry, then delete
the subscription). Values exactly at a column's size fit, on both databases."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.kit.inbox import Deliver
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import (
    ORDERS_SECRET,
    SHOPIFY_SECRET,
    WOO_SECRET,
    error_shaped,
    fixture,
    post_orders,
    post_shopify,
    post_woo,
    written,
)
from tests.orders.test_signed_json import paid as signed_paid
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.verify import verify

PAID = fixture("shopify_order_paid.json")
WOO = fixture("woocommerce_order_processing.json")
NOTHING = (0, 0, 0, 0, 0, 0)


def changed(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with the value at ``path`` replaced."""
    result = copy.deepcopy(document)
    target: Any = result
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return result


HOSTILE_SHOPIFY = [
    (("customer", "first_name"), "Ann\x00"),
    (("customer", "email"), "ann\x00@example.com"),
    (("customer", "phone"), "+1613\x00"),
    (("id",), "5899\x00"),
    (("line_items", 0, "sku"), "HB\x00340"),
    (("customer_locale",), "e\x00"),
    (("customer", "first_name"), "\ud800"),
    (("customer", "phone"), "+" + "1" * 40),
    (("customer", "first_name"), "A" * 201),
    (("customer", "last_name"), "L" * 200),  # with "Ann ": 204 characters
    (("customer", "email"), "a" * 309 + "@example.com"),
    (("id",), "9" * 201),
    (("customer", "id"), "7" * 201),
    (("line_items", 0, "price_set", "shop_money", "amount"), "1e17"),
    (("line_items", 0, "price_set", "shop_money", "amount"), "9.99e999999"),
    (("line_items", 0, "quantity"), 2**63),
    (("total_tax_set", "shop_money", "amount"), 2**64),
    (("total_tax_set",), {"shop_money": {"amount": str(2**64)}}),
    (("shipping_lines", 0, "discounted_price_set", "shop_money", "amount"), "-50.00"),
    (("line_items", 0, "discount_allocations", 0, "amount_set", "shop_money", "amount"), "-5"),
    (("processed_at",), "9999-12-31T23:59:59-01:00"),
    # 16.00 in Arabic-Indic digits, which Decimal() would read
    (("line_items", 0, "price_set", "shop_money", "amount"), "\u0661\u0666.\u0660\u0660"),
]


@pytest.mark.parametrize(("path", "value"), HOSTILE_SHOPIFY, ids=lambda v: repr(v)[:40])
def test_hostile_shopify_values_are_refused_and_write_nothing(
    client: FlaskClient, database: Database, path: tuple[str | int, ...], value: Any
) -> None:
    response = post_shopify(client, "orders/paid", changed(PAID, path, value))
    error_shaped(response, 422, "invalid_payload")
    assert written(database) == NOTHING


def test_values_exactly_at_their_column_size_fit(database: Database, deliver: Deliver) -> None:
    body = changed(PAID, ("id",), "9" * 200)
    body["customer"] = {
        **body["customer"],
        "id": "7" * 200,
        "phone": "+" + "1" * 39,
        "first_name": "A" * 99,
        "last_name": "L" * 100,
        "email": "a" * 308 + "@example.com",
    }
    assert deliver.shopify("orders/paid", body, webhook_id="w" * 255)["status"] == "applied"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Shopify-Webhook-Id", "w" * 256),
        ("X-Shopify-Event-Id", "e" * 256),
        ("X-Shopify-Topic", "orders/" + "p" * 100),
        ("X-Shopify-Triggered-At", "9999-12-31T23:59:59-01:00"),
    ],
)
def test_oversized_shopify_headers_are_refused(
    client: FlaskClient, database: Database, name: str, value: str
) -> None:
    response = post_shopify(client, "orders/paid", PAID, headers={name: value})
    assert name.lower() in error_shaped(response, 422, "invalid_payload").lower()
    assert written(database) == NOTHING


HOSTILE_WOO = [
    (("billing", "first_name"), "Jo\x00hn"),
    (("billing", "email"), "x" * 310 + "@example.com"),
    (("billing", "phone"), "5" * 41),
    (("id",), "7" * 201),
    (("customer_id",), "2" * 201),
    (("status",), "processing\x00"),
    (("shipping_total",), "-50.00"),
    (("shipping_total",), "1e17"),
    (("line_items", 0, "total"), "9.99e999999"),
    (("line_items", 0, "sku"), "W\x00"),
    (("total_tax",), 2**63),
    (("date_paid_gmt",), "0001-01-01T00:00:00"),
    (("refunds",), [{"id": "r" * 201, "total": "-1.00"}]),
]


@pytest.mark.parametrize(("path", "value"), HOSTILE_WOO, ids=lambda v: repr(v)[:40])
def test_hostile_woocommerce_values_are_refused_and_write_nothing(
    client: FlaskClient, database: Database, path: tuple[str | int, ...], value: Any
) -> None:
    response = post_woo(client, changed(WOO, path, value))
    error_shaped(response, 422, "invalid_payload")
    assert written(database) == NOTHING


HOSTILE_SIGNED = [
    (("id",), "e" * 256),
    (("order", "id"), "o" * 201),
    (("customer", "name"), "N" * 201),
    (("customer", "email"), "Mira\x00@example.com"),
    (("customer", "phone"), "+" + "7" * 40),
    (("customer", "id"), "c" * 201),
    (("order", "shipping"), "-50.00"),
    (("order", "tax"), "1e17"),
    (("order", "lines", 0, "amount"), "9.99e999999"),
    (("order", "lines", 0, "amount"), 2**63),
    (("order", "lines", 0, "sku"), "L\x00"),
    (("order", "paid_at"), "9999-12-31T23:59:59-01:00"),
    (("customer", "birthday"), "1990-03-05" * 10),
]


@pytest.mark.parametrize(("path", "value"), HOSTILE_SIGNED, ids=lambda v: repr(v)[:40])
def test_hostile_signed_json_values_are_refused_and_write_nothing(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    path: tuple[str | int, ...],
    value: Any,
) -> None:
    body = changed(signed_paid(), path, value)
    response = post_orders(client, body, at=int(clock.now().timestamp()))
    error_shaped(response, 422, "invalid_payload")
    assert written(database) == NOTHING


def test_numbers_beyond_any_parser_are_refused(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    huge_int = b'{"id": ' + b"9" * 5000 + b"}"  # beyond Python's int conversion limit
    huge_float = b'{"id": "e", "type": "order.paid", "order": {"shipping": 9.99e999999}}'
    at = int(clock.now().timestamp())
    error_shaped(post_shopify(client, "orders/paid", huge_int), 400, "malformed_json")
    error_shaped(post_woo(client, huge_int), 400, "malformed_json")
    error_shaped(post_orders(client, huge_int, at=at), 400, "malformed_json")
    error_shaped(post_orders(client, huge_float, at=at), 422, "invalid_payload")
    assert written(database) == NOTHING


@pytest.mark.parametrize("t", ["²³", "١٧٧٢٣٦٦٤٠٠", "1" * 5000, "-5", "1e9"])
def test_odd_signature_timestamps_are_a_401(
    client: FlaskClient, database: Database, t: str
) -> None:
    response = post_orders(client, signed_paid(), at=0, header=f"t={t},v1=abc")
    error_shaped(response, 401, "invalid_signature")
    assert written(database) == NOTHING


@pytest.mark.parametrize("signature", ["é" * 44, "ü", "\u00ff" * 2000, " "])
def test_non_ascii_hmac_headers_are_a_401(
    client: FlaskClient, database: Database, clock: FixedClock, signature: str
) -> None:
    shopify = post_shopify(
        client, "orders/paid", PAID, secret=None, headers={"X-Shopify-Hmac-Sha256": signature}
    )
    woo = post_woo(client, WOO, secret=None, headers={"X-WC-Webhook-Signature": signature})
    at = int(clock.now().timestamp())
    ours = post_orders(client, signed_paid(), at=at, header=f"t={at},v1={signature}")
    for response in (shopify, woo, ours):
        error_shaped(response, 401, "invalid_signature")
    assert written(database) == NOTHING


def test_an_order_with_negative_shipping_is_refused_so_every_order_can_be_cancelled(
    client: FlaskClient, database: Database, deliver: Deliver
) -> None:
    negative = changed(PAID, ("shipping_lines",), [{"price": "-50.00"}])
    error_shaped(post_shopify(client, "orders/paid", negative), 422, "invalid_payload")
    assert written(database) == NOTHING
    assert deliver.shopify("orders/paid", PAID)["status"] == "applied"
    cancelled = deliver.shopify("orders/cancelled", fixture("shopify_order_cancelled.json"))
    assert cancelled["balance"] == {"available": 0, "pending": 0}


LONG_SHOP = ".".join(["s" * 63, "h" * 63, "o" * 63, "p" * 47]) + ".myshopify.com"  # 253
LONG_SITE = "https://" + ".".join(["w" * 63, "o" * 63, "o" * 63, "c" * 48]) + ":8443/s"  # 255


def test_the_longest_shop_domain_and_ids_fit_every_key_and_column(
    database: Database, make_program: MakeProgram, deliver: Deliver
) -> None:
    assert len(LONG_SHOP) == 253 and len(LONG_SITE) == 255
    make_program(
        webhooks={
            "shopify_secret": SHOPIFY_SECRET,
            "shopify_shop_domain": LONG_SHOP,
            "woocommerce_secret": WOO_SECRET,
            "woocommerce_site_url": LONG_SITE,
            "orders_secret": ORDERS_SECRET,
        }
    )
    order_id, refund_id = "8" * 200, "6" * 200
    paid = changed(PAID, ("id",), order_id)
    paid["customer"]["id"] = "7" * 200
    refund = {**fixture("shopify_refund_partial.json"), "id": refund_id, "order_id": order_id}
    cancelled = {**fixture("shopify_order_cancelled.json"), "id": order_id}
    cancelled["customer"] = paid["customer"]
    for topic, body in (
        ("orders/paid", paid),
        ("refunds/create", refund),
        ("orders/cancelled", cancelled),
    ):
        answer = deliver.shopify(topic, body, headers={"X-Shopify-Shop-Domain": LONG_SHOP})
        assert answer["status"] == "applied", topic
    woo = {**WOO, "id": order_id, "customer_id": "2" * 200}
    woo_refunded = {**woo, "status": "refunded", "refunds": [{"id": refund_id, "total": "-1"}]}
    for body in (woo, woo_refunded):
        answer = deliver.woo(body, headers={"X-WC-Webhook-Source": LONG_SITE})
        assert answer["status"] == "applied"
    with database.transaction() as session:
        assert verify(session) == []


def test_the_demo_shop_domain_fits_orders_source(client: FlaskClient, database: Database) -> None:
    """`shopify:demo-coffee-roasters.myshopify.com` is 42 characters: once a 500 on PostgreSQL."""
    response = post_shopify(client, "orders/paid", PAID)
    assert response.status_code == 200, response.json
