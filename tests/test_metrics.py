"""GET /metrics as Prometheus scrapes it: token-protected, parsed with prometheus_client's own
parser, and moving when a webhook arrives, a ledger entry commits and the worker pushes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fakes.apns import FakeApns
from tests.kit.passes import paid_order, token_of
from tests.kit.webhooks import post_orders
from tests.sync.test_push import register
from walletcards import create_app
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card, Program
from walletcards.settings import Secret, Settings
from walletcards.sync.worker import Worker

TOKEN = "metrics-token-0123456789abcdef"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def program(apple_program: Program) -> Program:
    """The Apple kit's programme (passes, the signed-JSON webhook)."""
    return apple_program


@pytest.fixture
def settings(apns_settings: Settings) -> Settings:
    return apns_settings


def scrape(client: FlaskClient, token: str = TOKEN) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.data[:300]
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Iterator[Flask]:
    scraped = dataclasses.replace(settings, metrics_token=Secret(TOKEN))
    app = create_app(scraped, build_clients(scraped, clock))
    yield app
    app.extensions["walletcards.db"].dispose()


@pytest.fixture
def client(app: Flask, program: Program) -> FlaskClient:
    return app.test_client()


def test_metrics_is_404_while_no_token_is_configured(settings: Settings) -> None:
    app = create_app(settings)
    response = app.test_client().get("/metrics", headers={"Authorization": "Bearer anything"})
    app.extensions["walletcards.db"].dispose()
    assert response.status_code == 404
    assert response.json is not None and response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}"])
def test_metrics_refuses_a_missing_or_wrong_token(client: FlaskClient, header: str | None) -> None:
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json is not None and response.json["error"]["code"] == "unauthorized"
    assert TOKEN not in response.get_data(as_text=True)


def test_a_webhook_and_a_push_move_the_counters_and_the_backlog(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    before = scrape(client)
    token = token_of(paid_order(client, clock, "M-1"))
    register(client, database, token, "phone", "ab" * 32)
    bad = post_orders(client, {"id": "x"}, at=int(clock.now().timestamp()), secrets=("nope",))
    assert bad.status_code == 401

    waiting = scrape(client)
    delivered = ("walletcards_webhook_deliveries_total", {"source": "orders"})
    assert (
        value(waiting, delivered[0], **delivered[1], outcome="applied")
        == value(before, delivered[0], **delivered[1], outcome="applied") + 1
    )
    assert (
        value(waiting, delivered[0], **delivered[1], outcome="invalid_signature")
        == value(before, delivered[0], **delivered[1], outcome="invalid_signature") + 1
    )
    earned = value(waiting, "walletcards_ledger_entries_total", kind="earn")
    assert earned == value(before, "walletcards_ledger_entries_total", kind="earn") + 1
    assert value(waiting, "walletcards_push_backlog_cards") == 1
    assert value(waiting, "walletcards_outbox_backlog", kind="email", status="pending") == 1

    worker.drain()
    after = scrape(client)
    pushed = value(after, "walletcards_pushes_total", wallet="apple", result="delivered")
    assert (
        pushed == value(waiting, "walletcards_pushes_total", wallet="apple", result="delivered") + 1
    )
    assert len(apns.requests) == 1
    assert value(after, "walletcards_push_backlog_cards") == 0
    assert value(after, "walletcards_push_backlog_oldest_seconds") == 0


def test_a_dead_device_token_counts_as_dead(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    token = token_of(paid_order(client, clock, "M-2"))
    register(client, database, token, "phone", "dd" * 32)
    apns.script["dd" * 32] = [410]
    before = value(scrape(client), "walletcards_pushes_total", wallet="apple", result="dead")
    worker.drain()
    after = value(scrape(client), "walletcards_pushes_total", wallet="apple", result="dead")
    assert after == before + 1


def test_request_latency_is_labelled_by_endpoint_never_by_raw_path(client: FlaskClient) -> None:
    client.get("/c/no-such-card-token")
    client.get("/no/such/page/at/all")
    samples = scrape(client)
    counts = {
        dict(labels)["endpoint"]
        for (name, labels) in samples
        if name == "walletcards_http_request_duration_seconds_count"
    }
    assert {"customer.card_page", "unmatched", "metrics.scrape"} <= counts
    assert not any("/" in endpoint for endpoint in counts)
    assert "no-such-card-token" not in str(samples)


def test_a_ledger_entry_counts_when_its_transaction_commits_not_when_it_rolls_back(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    card_token = token_of(paid_order(client, clock, "M-3"))
    with database.transaction() as session:
        card_id = session.execute(
            select(Card.id).where(Card.public_token == card_token)
        ).scalar_one()

    def bonus(session: Session, key: str) -> None:
        card = ledger.lock_card(session, card_id)
        ledger.credit(
            session,
            card,
            kind="bonus",
            key=key,
            points=5,
            cause="test",
            now=clock.now(),
            available_at=clock.now(),
            expires_at=None,
            max_points=1000,
        )
        session.flush()

    before = value(scrape(client), "walletcards_ledger_entries_total", kind="bonus")
    with pytest.raises(RuntimeError), database.transaction() as session:
        bonus(session, "rolled-back")
        raise RuntimeError("abort the transaction")
    assert value(scrape(client), "walletcards_ledger_entries_total", kind="bonus") == before
    with database.transaction() as session:
        bonus(session, "committed")
    assert value(scrape(client), "walletcards_ledger_entries_total", kind="bonus") == before + 1
