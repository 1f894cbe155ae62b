"""A batch of deliveries applied together, in one transaction without savepoints: each order
once, the same ledger as one by one, few statements per order; a delivery that fails or is
refused sends the batch back to one by one, where only it is held back."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update

from tests.kit.inbox import DrainInbox, recorded
from tests.kit.webhooks import SHOP, fixture, post_shopify, post_woo
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import reservations
from walletcards.loyalty.ledger import settled_balance
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Order, Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.verify import verify
from walletcards.orders.models import InboxDelivery

PAID = fixture("shopify_order_paid.json")
WOO = fixture("woocommerce_order_processing.json")
STATEMENTS_PER_NEW_CUSTOMER = 14  # 10.1 on PostgreSQL (bench/apply.py; was 16, and 27); 13.2 here


def order(index: int, customer: int | None = None) -> dict[str, Any]:
    """A paid order from customer ``customer`` (default: its own new customer)."""
    number = index if customer is None else customer
    paid = {**PAID, "id": 10**15 + index, "customer": {**PAID["customer"], "id": number + 1}}
    paid["email"] = paid["contact_email"] = f"c{number}@example.com"
    paid["customer"]["email"] = paid["email"]
    return paid


def accept(client: FlaskClient, payload: dict[str, Any]) -> str:
    webhook_id = str(uuid.uuid4())
    response = post_shopify(client, "orders/paid", payload, webhook_id=webhook_id)
    assert response.json == {"status": "accepted"}, response.json
    return webhook_id


def outcome_of(database: Database) -> dict[str, tuple[str, int]]:
    with database.transaction() as session:
        rows = session.execute(
            select(InboxDelivery.delivery_id, InboxDelivery.outcome, InboxDelivery.attempts)
        )
        return {row.delivery_id: (row.outcome, row.attempts) for row in rows}


def earns_per_order(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        rows = session.execute(
            select(Order.external_id, func.count(LedgerEntry.id))
            .join(LedgerEntry, LedgerEntry.order_id == Order.id)
            .where(LedgerEntry.kind == "earn")
            .group_by(Order.external_id)
        )
        return {external_id: count for external_id, count in rows}


def test_a_batch_of_new_and_repeat_customers_applies_each_order_once_in_few_statements(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    for index in range(8):
        accept(client, order(index))
    accept(client, order(8, customer=0))  # the first customer again
    accept(client, order(0))  # the first order again under another delivery id
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        assert drain_inbox() == 10
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert statements <= STATEMENTS_PER_NEW_CUSTOMER * 10, statements
    outcomes = sorted(outcome for outcome, _ in outcome_of(database).values())
    assert outcomes == ["applied"] * 9 + ["duplicate"]
    assert earns_per_order(database) == {str(10**15 + index): 1 for index in range(9)}
    with database.transaction() as session:
        welcomes = session.execute(
            select(func.count()).where(LedgerEntry.cause == "welcome")
        ).scalar_one()
        assert welcomes == 8  # one per new customer, none for the repeat order
        counts = session.execute(select(Card.orders_count).order_by(Card.id)).scalars()
        assert list(counts) == [2] + [1] * 7
        numbers = list(session.execute(select(Card.member_number)).scalars())
        assert len(set(numbers)) == 8 and all(len(n or "") == 10 for n in numbers)
        assert verify(session) == []


def test_a_failing_and_a_refused_delivery_hold_back_only_themselves(
    client: FlaskClient,
    database: Database,
    drain_inbox: DrainInbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    post_woo(client, WOO, topic="order.created")
    post_woo(client, {**WOO, "refunds": [{"id": 730, "total": "-10.00"}]})
    drain_inbox()
    post_woo(client, {**WOO, "refunds": [{"id": 730, "total": "-5.00"}]}, delivery_id="d-9")
    good = [accept(client, order(index)) for index in range(4)]
    bad = accept(client, order(4))
    with database.transaction() as session:  # a body the adapter can no longer read
        session.execute(
            update(InboxDelivery).where(InboxDelivery.delivery_id == bad).values(body="{x")
        )
    good.append(accept(client, order(5)))
    with database.transaction() as session:
        bad_id = session.execute(
            select(InboxDelivery.id).where(InboxDelivery.delivery_id == bad)
        ).scalar_one()
    with caplog.at_level(logging.INFO, logger="walletcards.orders.applier"):
        assert drain_inbox() == 7
    assert f"(inbox delivery {bad_id}: " in caplog.text  # the one whose body did not read
    outcomes = outcome_of(database)
    assert outcomes["d-9"] == ("refused", 0)
    assert outcomes[bad] == ("accepted", 1)  # retried after a backoff
    assert [outcomes[webhook_id] for webhook_id in good] == [("applied", 0)] * 5
    earns = earns_per_order(database)
    assert [earns.get(str(10**15 + index)) for index in range(6)] == [1, 1, 1, 1, None, 1]
    with database.transaction() as session:
        assert verify(session) == []


def test_a_batch_looks_its_orders_up_at_once_and_answers_as_one_by_one(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox, clock: FixedClock
) -> None:
    """Applied together, a batch locks and looks up its orders in one go (loyalty/order_batch.py):
    an order applied before is a duplicate, one cancelled before it was paid earns nothing,
    a code naming a reservation is captured, and each recorded balance is the card's settled
    balance."""
    accept(client, order(0))
    cancelled = {**fixture("shopify_order_cancelled.json"), "id": 10**15 + 7}
    assert post_shopify(client, "orders/cancelled", cancelled).json == {"status": "accepted"}
    assert drain_inbox() == 2
    clock.advance(timedelta(days=15))  # customer 0's points are spendable
    with database.transaction() as session:
        program = session.execute(select(Program)).scalar_one()
        card = session.execute(
            select(Card).join(Customer).where(Customer.email == "c0@example.com")
        ).scalar_one()
        code = reservations.reserve(
            session,
            program,
            card,
            100,
            channel="api",
            reference=None,
            actor="t",
            key="k",
            now=clock.now(),
        ).code
    assert code is not None
    with_code = order(8, customer=0)
    with_code["discount_codes"] = [{"code": code.lower(), "amount": "1.00", "type": "fixed_amount"}]
    batch = [
        accept(client, order(7)),  # cancelled before it was paid
        accept(client, with_code),  # customer 0 again, with the reserved code
        accept(client, order(0)),  # applied before
        accept(client, order(9)),  # a new customer
    ]
    reversal_look_ups = 0

    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        nonlocal reversal_look_ups
        reversal_look_ups += "FROM early_reversals" in statement

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        assert drain_inbox() == 4
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert reversal_look_ups == 1  # once for the batch, not once per order
    answers = [recorded(database, "shopify", webhook_id) for webhook_id in batch]
    assert [answer["status"] for answer in answers] == [
        "ignored",
        "applied",
        "duplicate",
        "applied",
    ]
    assert earns_per_order(database) == {str(10**15 + index): 1 for index in (0, 8, 9)}
    with database.transaction() as session:
        spent = session.execute(select(Redemption)).scalar_one()
        assert (spent.status, spent.order_ref) == ("captured", f"shopify:{SHOP}:order:{10**15 + 8}")
        for answer in answers[1:]:
            token = answer["card"]["url"].rsplit("/", 1)[-1]
            card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
            assert answer["balance"] == settled_balance(session, card, clock.now())._asdict()
        assert verify(session) == []


def test_an_old_order_applied_in_a_batch_answers_without_its_expired_points(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox, clock: FixedClock
) -> None:
    """Paid 59 days ago, applied now: its welcome points (spendable after 14 days, for 30)
    have expired already, and the recorded balance must not count them."""
    old = order(0)
    old["processed_at"] = (clock.now() - timedelta(days=59)).isoformat()
    batch = [accept(client, old), accept(client, order(1))]
    assert drain_inbox() == 2
    with database.transaction() as session:
        for webhook_id in batch:
            answer = recorded(database, "shopify", webhook_id)
            token = answer["card"]["url"].rsplit("/", 1)[-1]
            card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
            assert answer["balance"] == settled_balance(session, card, clock.now())._asdict()
        assert verify(session) == []
