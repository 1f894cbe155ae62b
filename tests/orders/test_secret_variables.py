"""A programme whose webhook secret is ``env:NAME`` while NAME is not set on the server: the
server is misconfigured, not the shop, so deliveries get 503 (the shop retries) naming the
variable, never 404 "not enabled"."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.kit.programs import MakeProgram
from tests.kit.webhooks import ORDERS_SECRET, counts, post_orders
from walletcards.clock import FixedClock
from walletcards.db import Database

VARIABLE = "CARDS_TEST_UNSET_ORDERS_SECRET"
PAID = {
    "id": "evt_unset_1",
    "type": "order.paid",
    "order": {
        "id": "A-2001",
        "currency": "USD",
        "paid_at": "2026-03-01T10:00:00Z",
        "lines": [{"amount": "25.00", "sku": "LATTE-BEANS"}],
    },
    "customer": {"id": "crm-88", "email": "lee@example.com", "name": "Lee"},
}


def _post(app: Flask, clock: FixedClock, payload: dict[str, Any] = PAID) -> Any:
    return post_orders(app.test_client(), payload, at=int(clock.now().timestamp()))


def test_a_delivery_whose_secret_variable_is_not_set_is_503_naming_it_then_applies_once_set(
    app: Flask,
    make_program: MakeProgram,
    database: Database,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    make_program(webhooks={"orders_secret": f"env:{VARIABLE}"})
    before = counts(database)
    refused = _post(app, clock)
    assert refused.status_code == 503
    assert refused.json is not None
    assert refused.json["error"]["code"] == "secret_not_set"
    assert VARIABLE in refused.json["error"]["message"]
    assert counts(database) == before  # nothing written: the retry is a first delivery
    monkeypatch.setenv(VARIABLE, ORDERS_SECRET)
    retried = _post(app, clock)
    assert retried.status_code == 200, retried.json
    assert retried.json is not None and retried.json["status"] == "applied"


def test_a_source_the_programme_does_not_configure_is_still_404(
    app: Flask, make_program: MakeProgram, clock: FixedClock
) -> None:
    make_program(
        webhooks={
            "shopify_secret": "shpss_only_shopify_0123456789",
            "shopify_shop_domain": "only-shopify.myshopify.com",
        }
    )
    response = _post(app, clock)
    assert response.status_code == 404
    assert response.json is not None and response.json["error"]["code"] == "source_not_enabled"
