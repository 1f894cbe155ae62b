"""Shop deliveries signed the way each shop signs them, the webhook secrets a test programme
knows, and what a refused delivery must leave unchanged."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.kit.clone import ROOT
from tests.kit.programs import MakeProgram
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Order, Program, Refund
from walletcards.orders.models import InboxDelivery
from walletcards.orders.signatures import base64_hmac, timestamped_signature

FIXTURES = ROOT / "tests" / "orders" / "fixtures"
SHOPIFY_SECRET = "shpss_0123456789abcdef0123456789abcdef"
SHOPIFY_OLD_SECRET = "shpss_old_fedcba9876543210fedcba98765"
WOO_SECRET = "woo-secret-1234567890"
ORDERS_SECRET = "whsec_orders_secret_0123456789"
ORDERS_OLD_SECRET = "whsec_orders_old_secret_01234567"
SHOP = "demo-coffee-roasters.myshopify.com"  # 42 characters as an order source
WOO_SITE = "https://shop.example.com/"
PUBLIC_URL = "https://cards.example.com"


def fixture(name: str) -> dict[str, Any]:
    """A recorded delivery from tests/orders/fixtures/."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.fixture
def webhook_program(make_program: MakeProgram) -> Program:
    """The demo programme with a known secret for every shop (and the previous ones)."""
    return make_program(
        webhooks={
            "shopify_secret": SHOPIFY_SECRET,
            "shopify_previous_secret": SHOPIFY_OLD_SECRET,
            "shopify_shop_domain": SHOP,
            "woocommerce_secret": WOO_SECRET,
            "woocommerce_site_url": "https://shop.example.com",
            "orders_secret": ORDERS_SECRET,
            "orders_previous_secret": ORDERS_OLD_SECRET,
        }
    )


def body_of(payload: dict[str, Any] | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def post_shopify(
    client: FlaskClient,
    topic: str,
    payload: dict[str, Any] | bytes,
    *,
    webhook_id: str | None = None,
    secret: str | None = SHOPIFY_SECRET,
    slug: str = "demo",
    headers: dict[str, str] | None = None,
) -> TestResponse:
    body = body_of(payload)
    sent = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-03-01T12:00:00.000000Z",
    }
    if secret is not None:
        sent["X-Shopify-Hmac-Sha256"] = base64_hmac(secret, body)
    sent.update(headers or {})
    return client.post(f"/webhooks/{slug}/shopify", data=body, headers=sent)


def post_woo(
    client: FlaskClient,
    payload: dict[str, Any] | bytes,
    *,
    topic: str = "order.updated",
    delivery_id: str | None = None,
    secret: str | None = WOO_SECRET,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    body = body_of(payload)
    sent = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Source": WOO_SITE,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }
    if secret is not None:
        sent["X-WC-Webhook-Signature"] = base64_hmac(secret, body)
    sent.update(headers or {})
    return client.post("/webhooks/demo/woocommerce", data=body, headers=sent)


def post_orders(
    client: FlaskClient,
    payload: dict[str, Any] | bytes,
    *,
    at: int,
    secrets: tuple[str, ...] = (ORDERS_SECRET,),
    header: str | None = None,
) -> TestResponse:
    body = body_of(payload)
    if header is None:
        header = f"t={at}," + ",".join(f"v1={timestamped_signature(s, at, body)}" for s in secrets)
    return client.post(
        "/webhooks/demo/orders",
        data=body,
        headers={"Content-Type": "application/json", "Walletcards-Signature": header},
    )


def counts(database: Database) -> tuple[int, int]:
    """(inbox rows, ledger entries): what a refused delivery must leave unchanged."""
    with database.transaction() as session:
        inbox = session.execute(select(func.count()).select_from(InboxDelivery)).scalar_one()
        entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    return inbox, entries


WRITTEN = (InboxDelivery, LedgerEntry, Customer, Card, Order, Refund)


def written(database: Database) -> tuple[int, ...]:
    """Rows of every table a delivery may write (inbox, ledger, customers, cards, orders,
    refunds), in one query: a refused delivery leaves all of them unchanged."""
    counted = [select(func.count()).select_from(model).scalar_subquery() for model in WRITTEN]
    with database.transaction() as session:
        return tuple(session.execute(select(*counted)).one())


def error_shaped(response: TestResponse, status: int, code: str | None = None) -> str:
    """Assert a JSON error of ``status`` (and ``code``); returns its message."""
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    body = response.json
    assert body is not None and set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return str(body["error"]["message"])
