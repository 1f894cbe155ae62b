"""A megabyte of '[' makes json.loads raise RecursionError: every JSON endpoint answers 4xx in
the error shape, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.kit.staff import make_staff
from tests.kit.webhooks import post_orders, post_shopify, post_woo
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program

DEEP = b"[" * 200_000


@pytest.fixture
def program(webhook_program: Program) -> Program:
    """The programme that knows every shop's webhook secret."""
    return webhook_program


def shaped(response: Any) -> None:
    assert 400 <= response.status_code < 500, response.status_code
    assert set(response.json["error"]) == {"code", "message"}


def test_deeply_nested_json_is_a_clear_4xx_everywhere(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    shaped(post_shopify(client, "orders/paid", DEEP))
    shaped(post_woo(client, DEEP))
    shaped(post_orders(client, DEEP, at=int(clock.now().timestamp())))
    shaped(client.post("/passkit/v1/log", data=DEEP, content_type="application/json"))
    token = make_staff(database, "boss@example.com", "manager")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "deep"}
    for url in (
        "/api/v1/cashier/scan",
        "/api/v1/cashier/redeem",
        "/api/v1/programs/demo/cards/1/adjustments",
    ):
        shaped(client.post(url, data=DEEP, headers=headers, content_type="application/json"))
    shaped(client.put("/api/v1/programs/demo/settings", data=DEEP, headers=headers))
