"""The appliers: accepted deliveries applied in arrival order per order; a failing one retried,
then parked in plain sight without holding up the others."""

from __future__ import annotations

import uuid
from datetime import timedelta

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.kit.inbox import DrainInbox, recorded
from tests.kit.webhooks import fixture, post_shopify, post_woo
from walletcards.cli import main
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import LedgerEntry, Order
from walletcards.loyalty.verify import verify
from walletcards.orders.applier import MAX_ATTEMPTS, MAX_BACKOFF
from walletcards.orders.models import InboxDelivery

PAID = fixture("shopify_order_paid.json")
REFUND = fixture("shopify_refund_partial.json")
CANCELLED = fixture("shopify_order_cancelled.json")


def accept(client: FlaskClient, topic: str, payload: dict[str, object]) -> str:
    webhook_id = str(uuid.uuid4())
    response = post_shopify(client, topic, payload, webhook_id=webhook_id)
    assert (response.status_code, response.json) == (200, {"status": "accepted"})
    return webhook_id


def outcomes(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as session:
        rows = session.execute(
            select(InboxDelivery.delivery_id, InboxDelivery.outcome).order_by(InboxDelivery.id)
        )
        return [(row.delivery_id, row.outcome) for row in rows]


def poison(database: Database, webhook_id: str) -> None:
    """A stored body the adapter can no longer read (as if a bug broke its parser)."""
    with database.transaction() as session:
        session.execute(
            update(InboxDelivery)
            .where(InboxDelivery.delivery_id == webhook_id)
            .values(body="{not json")
        )


def test_the_view_writes_only_the_inbox_and_the_applier_does_the_rest(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    webhook_id = accept(client, "orders/paid", PAID)
    assert outcomes(database) == [(webhook_id, "accepted")]
    with database.transaction() as session:
        assert session.execute(select(LedgerEntry)).first() is None
    assert drain_inbox() == 1
    assert recorded(database, "shopify", webhook_id)["status"] == "applied"
    assert drain_inbox() == 0


def test_a_poisoned_delivery_is_retried_then_parked_and_blocks_no_one(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox, clock: FixedClock
) -> None:
    bad = accept(client, "orders/paid", PAID)
    poison(database, bad)
    later = accept(client, "refunds/create", REFUND)  # the same order: waits for the first
    other = accept(client, "orders/paid", {**PAID, "id": 42, "customer": {"id": 9}})
    drain_inbox()
    assert outcomes(database) == [(bad, "accepted"), (later, "accepted"), (other, "applied")]
    for _ in range(MAX_ATTEMPTS - 1):  # backing off between attempts
        assert drain_inbox() == 0
        clock.advance(MAX_BACKOFF * 2)
        drain_inbox()
    with database.transaction() as session:
        row = session.execute(select(InboxDelivery).where(InboxDelivery.delivery_id == bad)).one()
        parked = row[0]
        assert (parked.outcome, parked.attempts) == ("parked", MAX_ATTEMPTS)
        assert "PayloadError" in (parked.detail or "")
    # parked: no longer holds back its order's next delivery (a refund of an order never
    # applied is recorded as it always was)
    assert dict(outcomes(database))[later] in {"applied", "ignored"}
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    runner = CliRunner()
    listed = runner.invoke(main, ["inbox", "list"], env=env)
    assert "\tparked\tattempt 8: PayloadError" in listed.output, listed.output
    backlog = runner.invoke(main, ["inbox", "backlog"], env=env)
    assert "waiting\t0" in backlog.output and "parked\t1" in backlog.output, backlog.output
    retried = runner.invoke(main, ["inbox", "retry", str(parked.id)], env=env)
    assert retried.exit_code == 0, retried.output
    assert dict(outcomes(database))[bad] == "accepted"
    again = runner.invoke(main, ["inbox", "retry", str(parked.id)], env=env)
    assert again.exit_code == 1 and "no parked inbox delivery" in again.output


def test_one_orders_deliveries_are_applied_in_the_order_they_arrived(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox, clock: FixedClock
) -> None:
    paid = accept(client, "orders/paid", PAID)
    refund = accept(client, "refunds/create", REFUND)
    cancel = accept(client, "orders/cancelled", CANCELLED)
    with database.transaction() as session:  # the first one failed once: it backs off
        session.execute(
            update(InboxDelivery)
            .where(InboxDelivery.delivery_id == paid)
            .values(attempts=1, apply_after=clock.now() + timedelta(seconds=5))
        )
    assert drain_inbox() == 0  # the refund and the cancellation wait for it
    clock.advance(timedelta(seconds=6))
    assert drain_inbox() == 3
    assert [o for _, o in outcomes(database)] == ["applied", "applied", "applied"]
    with database.transaction() as session:
        kinds = session.execute(select(LedgerEntry.kind).order_by(LedgerEntry.id)).scalars()
        assert list(kinds)[:2] == ["earn", "bonus"]  # the order first, then its reversals
        assert session.execute(select(Order.status)).scalar_one() == "cancelled"
        assert verify(session) == []
    assert recorded(database, "shopify", cancel)["balance"] == {"available": 0, "pending": 0}
    assert recorded(database, "shopify", refund)["status"] == "applied"


def test_a_delivery_the_ledger_refuses_is_recorded_refused_for_good(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    order = fixture("woocommerce_order_processing.json")
    post_woo(client, order, topic="order.created")
    post_woo(client, {**order, "refunds": [{"id": 730, "total": "-10.00"}]})
    post_woo(client, {**order, "refunds": [{"id": 730, "total": "-5.00"}]}, delivery_id="d-9")
    drain_inbox()
    answer = recorded(database, "woocommerce", "d-9")  # the same refund id, other amounts
    assert answer["status"] == "refused", answer
    assert answer["error"]["code"] == "idempotency_conflict"
    assert [o for _, o in outcomes(database)] == ["applied", "applied", "refused"]
    assert drain_inbox() == 0
