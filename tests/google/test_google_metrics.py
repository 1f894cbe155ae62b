"""Google Wallet calls and card updates in GET /metrics, against the loopback fake Google."""

from __future__ import annotations

import dataclasses

from flask.testing import FlaskClient

from tests.fakes.google import FakeGoogle
from tests.kit.passes import paid_order
from tests.test_metrics import TOKEN, scrape, value
from walletcards import create_app
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.loyalty.models import Program
from walletcards.settings import Secret, Settings
from walletcards.sync.worker import Worker


def test_google_calls_are_counted_by_status_and_card_updates_by_result(
    client: FlaskClient,
    fake_google: FakeGoogle,
    worker: Worker,
    clock: FixedClock,
    settings: Settings,
    clients: Clients,
    program: Program,
) -> None:
    app = create_app(dataclasses.replace(settings, metrics_token=Secret(TOKEN)), clients)
    scraper = app.test_client()
    before = scrape(scraper)
    fake_google.script["PATCH loyaltyObject"] = [429]  # answered, then retried by the client
    paid_order(client, clock, "G-1")
    worker.drain()
    after = scrape(scraper)
    app.extensions["walletcards.db"].dispose()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    calls = "walletcards_google_api_calls_total"
    # class POST 200; object PATCH 429, its retry 404 (no object yet), then object POST 200
    assert delta(calls, status="429") == 1
    assert delta(calls, status="404") == 1
    assert delta(calls, status="200") == 2
    assert delta("walletcards_pushes_total", wallet="google", result="delivered") == 1
