"""Hypothesis sends validly signed hostile bodies to every webhook source: real fixtures with
fields replaced, removed or added (random JSON, huge numbers, NUL, lone surrogates, long
strings, wrong types), or random JSON altogether. Whatever arrives: never a 5xx, every 4xx in
the error shape, and nothing written on a 4xx. The examples share one database, so orders,
refunds and cancellations of a small pool of order ids meet each other.

300 examples per source on PostgreSQL, fewer on SQLite (the PostgreSQL run is the one whose
columns and types refuse what SQLite would store)."""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.kit.inbox import DrainInbox
from tests.kit.webhooks import fixture, post_orders, post_shopify, post_woo, written
from tests.orders.test_signed_json import paid as signed_paid
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.orders.intake import PARKED, WAITING
from walletcards.orders.models import InboxDelivery

ON_POSTGRES = os.environ.get("WALLETCARDS_TEST_DATABASE_URL", "").startswith("postgresql")
# WALLETCARDS_FUZZ_EXAMPLES: more examples for a longer hunt
EXAMPLES = int(os.environ.get("WALLETCARDS_FUZZ_EXAMPLES") or (300 if ON_POSTGRES else 60))

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfffy",
        "0",
        "-1",
        "1e17",
        "-50.00",
        "9.99e999999",
        "1e-999999999",
        "NaN",
        "-Infinity",
        "1_000",
        "\u00b2\u00b3",
        "\u0661\u0666",
        "paid",
        "cancelled",
        "refunded",
        "processing",
        "USD",
        "EUR",
        "2026-03-01T10:00:00Z",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "ann@example.com",
    ]
)
LONG_TEXT = st.tuples(st.sampled_from(["a", "é", "7", "\x00", "@"]), st.integers(39, 330)).map(
    lambda pair: pair[0] * pair[1]
)
TEXT = st.text(st.characters(exclude_categories=()), max_size=12) | HOSTILE_TEXT | LONG_TEXT
NUMBERS = (
    st.integers(-(2**70), 2**70)
    | st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 2**64, 10**300, -1, -50, 0, 1, 10**15])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=False, allow_infinity=False).map(str)
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
# Names the adapters read: mutations aim at these (and at list entries holding them).
READ = {
    *("id", "order_id", "type", "financial_status", "cancelled_at", "currency", "test"),
    *("customer", "email", "contact_email", "phone", "customer_locale", "locale", "birthday"),
    *("billing_address", "billing", "first_name", "last_name", "name", "customer_id"),
    *("line_items", "lines", "price", "price_set", "shop_money", "amount", "quantity"),
    *("discount_allocations", "amount_set", "total_discount", "total_discount_set"),
    *("sku", "vendor", "brand", "product_type", "gift_card", "shipping_lines"),
    *("discounted_price", "discounted_price_set", "total_tax", "total_tax_set", "tax"),
    *("processed_at", "created_at", "paid_at", "refunds", "refund", "refund_line_items"),
    *("subtotal", "subtotal_set", "line_item", "order_adjustments", "kind", "shipping"),
    *("refund_shipping_lines", "subtotal_amount", "subtotal_amount_set", "order"),
    *("status", "date_paid", "date_paid_gmt", "total", "shipping_total"),
}

Path = tuple[str | int, ...]


def read_paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Paths to every value the adapters may read (by key name, through lists)."""
    children: Any = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in children:
        if isinstance(key, int) or key in READ:
            yield (*prefix, key)
            if isinstance(value, dict | list):
                yield from read_paths(value, (*prefix, key))


def follow(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` with one to three fields replaced, removed or added; now and then random JSON
    in place of the whole body."""
    if draw(st.integers(0, 19)) == 0:
        return draw(JSON)
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(read_paths(document))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = follow(document, path[:-1]), path[-1]
        operation = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if operation == "replace":
            parent[key] = draw(JSON)
        elif operation == "remove":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(sorted(READ)) | TEXT)] = draw(JSON)
        else:
            parent.append(draw(JSON))
    return document


def shopify_bases(order_id: int, customer_id: int) -> dict[str, dict[str, Any]]:
    paid = fixture("shopify_order_paid.json")
    paid["id"], paid["customer"]["id"] = order_id, customer_id
    cancelled = fixture("shopify_order_cancelled.json")
    cancelled["id"], cancelled["customer"]["id"] = order_id, customer_id
    refund = fixture("shopify_refund_partial.json")
    refund["order_id"], refund["id"] = order_id, order_id * 10
    return {
        "orders/paid": paid,
        "orders/create": paid,
        "orders/cancelled": cancelled,
        "refunds/create": refund,
    }


@st.composite
def shopify_deliveries(draw: st.DrawFn) -> tuple[str, Any]:
    bases = shopify_bases(draw(st.integers(1, 30)), draw(st.integers(1, 10)))
    topic = draw(st.sampled_from([*bases, "orders/updated"]))
    base = bases.get(topic) if draw(st.integers(0, 4)) else None
    return topic, draw(mutated(base or draw(st.sampled_from(list(bases.values())))))


@st.composite
def woo_deliveries(draw: st.DrawFn) -> tuple[str, Any]:
    order = fixture("woocommerce_order_processing.json")
    order["id"], order["customer_id"] = draw(st.integers(1, 30)), draw(st.integers(0, 10))
    order["status"] = draw(
        st.sampled_from(["processing", "completed", "cancelled", "refunded", "pending"])
    )
    order["refunds"] = draw(
        st.sampled_from([[], [{"id": 1, "total": "-10.00"}], [{"id": 2, "total": "-37.35"}]])
    )
    topic = draw(st.sampled_from(["order.created", "order.updated", "order.deleted"]))
    return topic, draw(mutated(order))


@st.composite
def signed_deliveries(draw: st.DrawFn) -> tuple[str, Any]:
    body = signed_paid(f"evt_{draw(st.integers(0, 10**9))}", f"A-{draw(st.integers(1, 30))}")
    kind = draw(st.sampled_from(["order.paid", "order.refunded", "order.cancelled"]))
    body["type"] = kind
    if kind == "order.refunded":
        body["refund"] = draw(
            st.sampled_from(
                [
                    {"id": "r-1", "amount": "5.60"},
                    {"id": "r-2", "lines": [{"amount": "10.00", "sku": "LATTE-BEANS"}]},
                ]
            )
        )
    return kind, draw(mutated(body))


Send = Callable[[FlaskClient, str, bytes, int], TestResponse]


def send_shopify(client: FlaskClient, topic: str, body: bytes, at: int) -> TestResponse:
    return post_shopify(client, topic, body)


def send_woo(client: FlaskClient, topic: str, body: bytes, at: int) -> TestResponse:
    return post_woo(client, body, topic=topic, delivery_id=uuid.uuid4().hex)


def send_signed(client: FlaskClient, topic: str, body: bytes, at: int) -> TestResponse:
    return post_orders(client, body, at=at)


SOURCES: dict[str, tuple[st.SearchStrategy[tuple[str, Any]], Send]] = {
    "shopify": (shopify_deliveries(), send_shopify),
    "woocommerce": (woo_deliveries(), send_woo),
    "orders": (signed_deliveries(), send_signed),
}


@pytest.fixture
def rows(database: Database) -> list[tuple[int, ...]]:
    """What the database held after the previous example (one count per example)."""
    return [written(database)]


@pytest.mark.parametrize("source", list(SOURCES))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_signed_hostile_bodies_never_answer_5xx_and_refusals_write_nothing(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    rows: list[tuple[int, ...]],
    source: str,
    data: st.DataObject,
    drain_inbox: DrainInbox,
) -> None:
    strategy, send = SOURCES[source]
    topic, document = data.draw(strategy)
    body = json.dumps(document).encode()  # NaN and Infinity as JavaScript writes them
    response = send(client, topic, body, int(clock.now().timestamp()))
    assert response.status_code < 500, (response.status_code, response.get_data()[:500])
    answer = response.json
    assert answer is not None, response.get_data()[:500]
    drain_inbox()  # an accepted delivery is applied soon after (and must not fail)
    before, rows[0] = rows[0], written(database)
    if response.status_code >= 400:
        assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message"}, answer
        assert rows[0] == before, answer
        event(f"{response.status_code} {answer['error']['code']}")  # --hypothesis-show-statistics
    else:
        assert response.status_code == 200
        assert answer["status"] in {"accepted", "applied", "duplicate", "ignored"}, answer
        with database.transaction() as session:
            unapplied = select(InboxDelivery.outcome, InboxDelivery.detail).where(
                InboxDelivery.outcome.in_([WAITING, PARKED])
            )
            assert session.execute(unapplied).all() == [], answer
        event(f"200 {answer['status']}")
