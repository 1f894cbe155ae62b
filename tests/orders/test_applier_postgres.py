"""The appliers on PostgreSQL: a killed applier loses nothing and applies nothing twice; two
appliers at once keep one order's deliveries in their arrival order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests.kit.clone import ROOT
from tests.kit.webhooks import fixture, post_shopify
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import LedgerEntry, Order, Program
from walletcards.loyalty.verify import verify
from walletcards.orders.applier import Applier, apply_batch, claim
from walletcards.orders.models import InboxDelivery
from walletcards.settings import Settings

pytestmark = pytest.mark.postgres
PAID = fixture("shopify_order_paid.json")
ORDERS = 200


def accept_orders(app: Flask, count: int) -> None:
    client = app.test_client()
    for index in range(count):
        order = {**PAID, "id": 10**15 + index, "customer": {**PAID["customer"], "id": index + 1}}
        order["email"] = order["contact_email"] = f"c{index}@example.com"
        response = post_shopify(client, "orders/paid", order, webhook_id=str(uuid.uuid4()))
        assert response.json == {"status": "accepted"}


def applied(database: Database) -> int:
    with database.transaction() as session:
        query = select(func.count()).where(InboxDelivery.outcome != "accepted")
        return session.execute(query).scalar_one()


def in_transaction(database: Database) -> bool:
    """Whether another connection to the database holds an open transaction (the applier's)."""
    with database.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                "AND state IN ('active', 'idle in transaction')"
            )
        ).scalar_one()
    return bool(found)


def start_applier(database: Database) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WALLETCARDS_DATABASE_URL": database.url,
        "WALLETCARDS_PUBLIC_URL": "https://cards.example.com",
        "WALLETCARDS_SECRET_KEY": "test-secret-key-0123456789",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "walletcards.cli", "inbox", "apply", "--batch", "50"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)


def test_an_applier_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    app: Flask, program: Program, database: Database
) -> None:
    accept_orders(app, ORDERS)
    applier = start_applier(database)
    deadline = time.monotonic() + 120
    while not (applied(database) >= 50 and in_transaction(database)):
        assert applier.poll() is None, "the applier finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    applier.send_signal(signal.SIGKILL)  # kill -9: mid-batch, its transaction open
    applier.communicate(timeout=10)
    assert applier.returncode == -signal.SIGKILL
    halfway = applied(database)
    assert 50 <= halfway < ORDERS  # whole batches only: the killed one rolled back
    assert halfway % 50 == 0
    restarted = start_applier(database)
    out, _ = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, out
    with database.transaction() as session:
        outcomes = session.execute(
            select(InboxDelivery.outcome, func.count()).group_by(InboxDelivery.outcome)
        ).all()
        assert [tuple(row) for row in outcomes] == [("applied", ORDERS)]
        earns = session.execute(
            select(LedgerEntry.order_id, func.count())
            .where(LedgerEntry.kind == "earn")
            .group_by(LedgerEntry.order_id)
        ).all()
        assert len(earns) == ORDERS and {count for _, count in earns} == {1}
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == ORDERS
        assert verify(session) == []


def test_two_appliers_keep_one_orders_deliveries_in_arrival_order(
    app: Flask, program: Program, database: Database, settings: Settings, clock: FixedClock
) -> None:
    client = app.test_client()
    for topic, body in (
        ("orders/paid", PAID),
        ("refunds/create", fixture("shopify_refund_partial.json")),
        ("orders/cancelled", fixture("shopify_order_cancelled.json")),
    ):
        assert post_shopify(client, topic, body).json == {"status": "accepted"}
    accept_orders(app, 5)  # other orders
    first_taken, release = threading.Event(), threading.Event()

    def applier_a() -> None:  # takes the order's first delivery and holds it
        with database.transaction() as session:
            rows = claim(session, clock.now(), 1)
            assert [row.topic for row in rows] == ["orders/paid"]
            first_taken.set()
            release.wait(30)
            apply_batch(session, rows, settings.public_url, clock.now())

    thread = threading.Thread(target=applier_a)
    thread.start()
    assert first_taken.wait(30)
    b = Applier(database, settings.public_url, clock, batch=10)
    assert b.drain() == 5  # the other orders; not the refund nor the cancellation
    with database.transaction() as session:
        waiting = session.execute(
            select(InboxDelivery.topic).where(InboxDelivery.outcome == "accepted")
        ).scalars()
        assert sorted(waiting) == ["orders/cancelled", "orders/paid", "refunds/create"]
    release.set()
    thread.join(30)
    assert b.drain() == 2
    with database.transaction() as session:
        order = session.execute(select(Order).where(Order.external_id == str(PAID["id"]))).one()[0]
        kinds = session.execute(
            select(LedgerEntry.kind)
            .where(LedgerEntry.order_id == order.id)
            .order_by(LedgerEntry.id)
        ).scalars()
        assert next(iter(kinds)) == "earn"
        assert order.status == "cancelled"
        applied_ids = session.execute(
            select(InboxDelivery.topic)
            .where(InboxDelivery.order_ref == str(PAID["id"]))
            .order_by(InboxDelivery.applied_at, InboxDelivery.id)
        ).scalars()
        assert list(applied_ids) == ["orders/paid", "refunds/create", "orders/cancelled"]
        assert verify(session) == []
