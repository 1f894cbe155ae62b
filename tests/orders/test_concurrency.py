"""Concurrent deliveries against PostgreSQL with real threads through the whole app."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.kit.inbox import DrainInbox
from tests.kit.webhooks import fixture, post_orders, post_shopify, post_woo
from tests.loyalty.test_concurrency import race
from tests.orders.test_signed_json import paid as signed_paid
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.verify import verify
from walletcards.orders.applier import Applier
from walletcards.orders.models import InboxDelivery
from walletcards.settings import Settings

pytestmark = pytest.mark.postgres
PAID = fixture("shopify_order_paid.json")


def test_the_same_delivery_fifty_times_at_once_is_accepted_once_and_applied_once(
    app: Flask, program: Program, database: Database, drain_inbox: DrainInbox
) -> None:
    body = json.dumps(PAID).encode()

    def deliver(_: int) -> tuple[int, str]:
        response = post_shopify(app.test_client(), "orders/paid", body, webhook_id="wh-same")
        assert response.json is not None
        return response.status_code, response.json["status"]

    results = race(50, deliver)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert set(results) == {(200, "accepted")}  # a repeat answers the same
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(InboxDelivery)).scalar_one() == 1
    assert drain_inbox() == 1
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 2


def test_orders_create_racing_orders_paid_earn_once_for_one_new_customer(
    app: Flask, program: Program, database: Database, settings: Settings, clock: FixedClock
) -> None:
    body = json.dumps(PAID).encode()

    def deliver(index: int) -> str:
        topic = "orders/create" if index % 2 else "orders/paid"
        response = post_shopify(app.test_client(), topic, body)
        assert response.status_code == 200, response.json
        assert response.json is not None
        return str(response.json["status"])

    results = race(20, deliver)
    assert results == ["accepted"] * 20, results
    # two appliers at once: each order's deliveries one at a time, the business key dedupes
    appliers = [Applier(database, settings.public_url, clock, batch=3) for _ in range(2)]
    assert sum(r for r in race(2, lambda i: appliers[i].drain()) if isinstance(r, int)) == 20
    with database.transaction() as session:
        outcomes = session.execute(select(InboxDelivery.outcome)).scalars().all()
        assert sorted(outcomes) == ["applied"] + ["duplicate"] * 19, outcomes
        kinds = session.execute(select(LedgerEntry.kind).order_by(LedgerEntry.id)).scalars().all()
        assert kinds == ["earn", "bonus"]
        assert session.execute(select(func.count()).select_from(Customer)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(Card)).scalar_one() == 1
        assert verify(session) == []


def test_identical_woocommerce_and_signed_deliveries_at_once_apply_once_each(
    app: Flask, program: Program, database: Database, clock: FixedClock, drain_inbox: DrainInbox
) -> None:
    woo = json.dumps(fixture("woocommerce_order_processing.json")).encode()
    ours = json.dumps(signed_paid("evt_same", "A-7")).encode()
    at = int(clock.now().timestamp())

    def deliver(index: int) -> str:
        client = app.test_client()
        if index % 2:
            response = post_woo(client, woo, topic="order.created", delivery_id="d-same")
        else:
            response = post_orders(client, ours, at=at)
        assert response.status_code == 200, response.json
        assert response.json is not None
        return f"{index % 2}:{response.json['status']}"

    results = race(20, deliver)
    assert all(isinstance(r, str) for r in results), results
    assert sorted({str(r) for r in results}) == ["0:applied", "0:duplicate", "1:accepted"]
    assert results.count("0:applied") == 1, results
    assert drain_inbox() == 1
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(InboxDelivery)).scalar_one() == 2
        assert session.execute(select(func.count()).select_from(Card)).scalar_one() == 2
        assert verify(session) == []
