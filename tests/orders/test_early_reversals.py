"""Refunds and cancellations that arrive before (or with) their `order.paid`: kept, and the
order then earns nothing it has given back — no order ends up paid with points after its
cancellation was acknowledged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.kit.webhooks import post_orders
from tests.loyalty.test_concurrency import race
from tests.orders.test_signed_json import now, paid
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, EarlyReversal, LedgerEntry, Order, Program
from walletcards.loyalty.verify import verify
from walletcards.sync.jobs import run_due


def cancelled(event_id: str, order_id: str = "A-1001") -> dict[str, Any]:
    return {**paid(event_id, order_id), "type": "order.cancelled"}


def refunded(event_id: str, refund: dict[str, Any]) -> dict[str, Any]:
    return {**paid(event_id), "type": "order.refunded", "refund": refund}


def ledger_rows(database: Database) -> int:
    with database.transaction() as session:
        assert verify(session) == []
        return session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()


def test_a_cancellation_before_the_paid_order_means_the_order_earns_nothing(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    early = post_orders(client, cancelled("evt_c"), at=now(clock))
    assert early.status_code == 200 and early.json is not None
    assert early.json["status"] == "ignored" and "kept" in early.json["detail"]
    late = post_orders(client, paid("evt_p"), at=now(clock))
    assert late.json is not None and late.json["status"] == "ignored"  # was: applied, 425 points
    assert late.json["card"] is None and "cancelled" in late.json["detail"]
    again = post_orders(client, paid("evt_p2"), at=now(clock))  # the shop retries
    assert again.json is not None and again.json["status"] == "ignored"
    assert ledger_rows(database) == 0
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 0


def test_a_cancellation_kept_twice_is_a_duplicate(client: FlaskClient, clock: FixedClock) -> None:
    post_orders(client, cancelled("evt_c"), at=now(clock))
    again = post_orders(client, cancelled("evt_c2"), at=now(clock))  # another delivery of it
    assert again.json is not None and again.json["status"] == "duplicate"


def test_a_partial_refund_before_the_paid_order_is_applied_when_it_arrives(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    by_lines = refunded("evt_r1", {"id": "r-1", "lines": [{"amount": "10.00", "sku": "LATTE"}]})
    by_amount = refunded("evt_r2", {"id": "r-2", "amount": "5.60"})
    for body in (by_lines, by_amount):
        assert post_orders(client, body, at=now(clock)).status_code == 200
    response = post_orders(client, paid("evt_p"), at=now(clock))
    assert response.json is not None and response.json["status"] == "applied"
    # 125 + 300 earned; 10.00 of the 25.00 eligible -> 50, then 5.60 of 56.00 pro rata -> 12
    assert response.json["balance"] == {"available": 0, "pending": 425 - 50 - 12}
    again = post_orders(client, by_lines | {"id": "evt_r1b"}, at=now(clock))  # a late retry
    assert again.json is not None and again.json["status"] == "duplicate"
    assert again.json["balance"] == response.json["balance"]
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(EarlyReversal)).scalar_one() == 0
    ledger_rows(database)


def test_a_full_refund_before_the_paid_order_means_the_order_earns_nothing(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    post_orders(client, refunded("evt_r", {"id": "r-all", "amount": "56.00"}), at=now(clock))
    late = post_orders(client, paid("evt_p"), at=now(clock))
    assert late.json is not None and late.json["status"] == "ignored"
    assert ledger_rows(database) == 0


def test_reversals_of_orders_that_never_arrive_are_forgotten_after_90_days(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    post_orders(client, cancelled("evt_c"), at=now(clock))
    assert run_due(database, clock.now() + timedelta(days=89))["early_reversals_forgotten"] == 0
    assert run_due(database, clock.now() + timedelta(days=91))["early_reversals_forgotten"] == 1


@pytest.mark.postgres
def test_a_cancellation_racing_its_paid_order_never_leaves_points(
    app: Flask, program: Program, database: Database, clock: FixedClock
) -> None:
    for round_ in range(6):
        order_id = f"R-{round_}"

        def deliver(index: int, order_id: str = order_id) -> str:
            body = paid(f"p-{order_id}", order_id) if index % 2 else cancelled(f"c-{order_id}")
            body["order"]["id"] = order_id
            response = post_orders(app.test_client(), body, at=now(clock))
            assert response.status_code == 200, response.json
            return str(response.json["status"])  # type: ignore[index]

        results = race(2, deliver)
        assert not any(isinstance(r, BaseException) for r in results), results
    with database.transaction() as session:
        held = session.execute(
            select(func.coalesce(func.sum(Card.available + Card.pending), 0))
        ).scalar_one()
        orders = session.execute(select(Order.status)).scalars().all()
        assert verify(session) == []
    assert held == 0  # whichever came first, every order ends cancelled or never paid
    assert set(orders) <= {"cancelled"}
