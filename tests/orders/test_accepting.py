"""Accepting a shop's delivery in one statement (orders/accepting.py): the programme each
process keeps between requests never outlives a new version of its file, a repeat writes
nothing, and on PostgreSQL the row is committed on its own and wakes the appliers."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.kit.inbox import DrainInbox
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import SHOP, SHOPIFY_SECRET, counts, fixture, post_shopify
from walletcards.clock import FixedClock
from walletcards.db import INBOX_CHANNEL, Database
from walletcards.errors import ApiError
from walletcards.loyalty.models import Program
from walletcards.orders import accepting
from walletcards.orders.events import Delivery
from walletcards.orders.models import InboxDelivery

PAID = fixture("shopify_order_paid.json")
NEW_SECRET = "shpss_new_0123456789abcdef0123456789ab"
OTHER_SHOP = "another-shop.myshopify.com"
WEBHOOKS = {"shopify_secret": SHOPIFY_SECRET, "shopify_shop_domain": SHOP}


def test_a_secret_rotated_after_the_programme_was_read_signs_from_the_next_delivery_on(
    client: FlaskClient, database: Database, make_program: MakeProgram, drain_inbox: DrainInbox
) -> None:
    assert post_shopify(client, "orders/paid", PAID).json == {"status": "accepted"}
    # the programme file applied again: only the new secret now (the old one is revoked)
    make_program(webhooks={"shopify_secret": NEW_SECRET, "shopify_shop_domain": SHOP})
    before = counts(database)
    old = post_shopify(client, "orders/paid", {**PAID, "id": 2}, secret=SHOPIFY_SECRET)
    assert old.status_code == 401 and old.json is not None
    assert old.json["error"]["code"] == "invalid_signature"
    assert counts(database) == before
    new = post_shopify(client, "orders/paid", {**PAID, "id": 3}, secret=NEW_SECRET)
    assert (new.status_code, new.json) == (200, {"status": "accepted"})
    assert counts(database) == (before[0] + 1, before[1])
    assert drain_inbox() == 2


def test_a_shop_pinned_after_the_programme_was_read_is_the_one_trusted(
    client: FlaskClient, database: Database, make_program: MakeProgram, drain_inbox: DrainInbox
) -> None:
    assert post_shopify(client, "orders/paid", PAID).status_code == 200
    make_program(webhooks={"shopify_secret": SHOPIFY_SECRET, "shopify_shop_domain": OTHER_SHOP})
    before = counts(database)
    refused = post_shopify(client, "orders/paid", {**PAID, "id": 2})
    assert refused.status_code == 401 and refused.json is not None
    assert refused.json["error"]["code"] == "unknown_shop"
    moved = post_shopify(
        client, "orders/paid", {**PAID, "id": 3}, headers={"X-Shopify-Shop-Domain": OTHER_SHOP}
    )
    assert (moved.status_code, moved.json) == (200, {"status": "accepted"})
    with database.transaction() as session:
        shops = session.execute(select(InboxDelivery.shop).order_by(InboxDelivery.id)).scalars()
        assert list(shops) == [SHOP, OTHER_SHOP]
    assert counts(database) == (before[0] + 1, before[1])
    assert drain_inbox() == 2


def test_a_repeated_delivery_answers_accepted_and_writes_one_row(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    webhook_id = str(uuid.uuid4())
    for _ in range(3):
        response = post_shopify(client, "orders/paid", PAID, webhook_id=webhook_id)
        assert (response.status_code, response.json) == (200, {"status": "accepted"})
    with database.transaction() as session:
        rows = session.execute(select(InboxDelivery)).scalars().all()
    assert [(row.delivery_id, row.outcome, row.attempts) for row in rows] == [
        (webhook_id, "accepted", 0)
    ]
    assert drain_inbox() == 1


@pytest.mark.postgres
def test_on_postgresql_an_accepted_delivery_is_committed_and_wakes_the_appliers_once(
    app: Flask, database: Database, program: Program, drain_inbox: DrainInbox
) -> None:
    client = app.test_client()
    url = make_url(database.url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"LISTEN {INBOX_CHANNEL}")
        webhook_id = str(uuid.uuid4())
        assert post_shopify(client, "orders/paid", PAID, webhook_id=webhook_id).status_code == 200
        heard = list(conn.notifies(timeout=5, stop_after=1))
        assert [notice.channel for notice in heard] == [INBOX_CHANNEL]
        # a repeat, and a topic recorded ignored at once, wake no one
        assert post_shopify(client, "orders/paid", PAID, webhook_id=webhook_id).status_code == 200
        assert post_shopify(client, "products/update", {"id": 1}).status_code == 200
        assert list(conn.notifies(timeout=0.5, stop_after=1)) == []
        # seen from another connection: committed, not waiting in an open transaction
        rows = conn.execute(
            "SELECT topic, outcome, response IS NULL, response->>'status' FROM inbox_deliveries "
            "ORDER BY id"
        ).fetchall()
    assert rows == [
        ("orders/paid", "accepted", True, None),
        ("products/update", "ignored", False, "ignored"),
    ]
    assert drain_inbox() == 1


def test_a_programme_applied_again_at_every_check_is_answered_503_not_written(
    database: Database, program: Program, make_program: MakeProgram, clock: FixedClock
) -> None:
    versions = iter(range(100))

    def check(current: accepting.Programme) -> Delivery:
        # the programme file applied again between this check and the insert, every time
        make_program(name=f"Demo {next(versions)}", webhooks=WEBHOOKS)
        return Delivery("shopify", SHOP, "orders/paid", str(uuid.uuid4()), None, None)

    before = counts(database)
    with pytest.raises(ApiError) as refused:
        accepting.accept(database, program.slug, check, b"{}", clock.now())
    assert (refused.value.status, refused.value.code) == (503, "programme_changing")
    assert counts(database) == before


@pytest.mark.postgres
def test_a_connection_the_database_dropped_a_moment_ago_costs_the_shop_no_delivery(
    app: Flask, database: Database, program: Program, drain_inbox: DrainInbox
) -> None:
    client = app.test_client()
    assert post_shopify(client, "orders/paid", PAID).status_code == 200
    pool: Database = app.extensions["walletcards.db"]
    with pool.engine.connect() as conn:  # the connection the next request will take
        pid = conn.execute(select(func.pg_backend_pid())).scalar_one()
    with database.engine.begin() as admin:  # as a database restart would
        admin.execute(select(func.pg_terminate_backend(pid)))
    # used under a second ago: handed out without a ping, fails, and the insert runs again
    again = post_shopify(client, "orders/paid", {**PAID, "id": PAID["id"] + 1, "name": "#2002"})
    assert again.status_code == 200, again.get_data()[:300]
    assert drain_inbox() == 2
