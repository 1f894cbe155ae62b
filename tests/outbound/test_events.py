from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.kit.passes import paid_order
from tests.kit.webhooks import post_orders
from tests.outbound.conftest import EVENTS_SECRET, Receiver
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.outbound.delivery import deliver_events
from walletcards.outbound.models import OutboundEvent, PausedEndpoint
from walletcards.settings import Settings


def verify(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """The receiver recipe from docs/events.md, verbatim."""
    parts = dict(item.split("=", 1) for item in headers["Walletcards-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_order_events_arrive_signed_with_unique_ids_and_card_sequence(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    receiver: Receiver,
    clients: Clients,
) -> None:
    paid_order(client, clock, "A-1")
    delivered = deliver_events(database, settings, clients.events, clock.now())
    bodies = [json.loads(body) for _, body in receiver.calls]
    assert delivered == len(receiver.calls) >= 3
    assert sorted(b["type"] for b in bodies) == sorted(
        ["card.issued", "tier.changed", "points.changed", "points.changed"]
    )
    for headers, body in receiver.calls:
        assert verify(headers, body, EVENTS_SECRET)
        assert headers["Walletcards-Event-Id"] == json.loads(body)["id"]
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert bodies[0]["card"]["url"].startswith("https://cards.example.com/c/")
    assert "token" not in bodies[0]["card"]
    changes = [b for b in bodies if b["type"] == "points.changed"]
    assert changes[-1]["balance"] == {"available": 0, "pending": 550, "debt": 0}
    sequences = [b["card"]["sequence"] for b in bodies]
    assert sequences == sorted(sequences)
    assert deliver_events(database, settings, clients.events, clock.now()) == 0  # delivered once


def test_a_forged_body_fails_the_documented_check(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    receiver: Receiver,
    clients: Clients,
) -> None:
    paid_order(client, clock, "A-1")
    deliver_events(database, settings, clients.events, clock.now())
    headers, body = receiver.calls[0]
    assert not verify(headers, body.replace(b"card.issued", b"card.issueD"), EVENTS_SECRET)
    assert not verify(headers, body, "another secret")


def test_500s_are_retried_with_backoff(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    receiver: Receiver,
    clients: Clients,
) -> None:
    paid_order(client, clock, "A-1")
    receiver.answers = [500] * 20
    assert deliver_events(database, settings, clients.events, clock.now()) == 0
    calls = len(receiver.calls)
    assert (
        deliver_events(database, settings, clients.events, clock.now()) == 0
        and len(receiver.calls) == calls
    )
    receiver.answers = []
    clock.advance(timedelta(minutes=10))
    assert deliver_events(database, settings, clients.events, clock.now()) == calls
    with database.transaction() as session:
        statuses = set(session.execute(select(OutboundEvent.status)).scalars())
    assert statuses == {"delivered"}


def test_an_endpoint_dead_for_three_days_is_paused_and_resumable(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    receiver: Receiver,
    clients: Clients,
) -> None:
    paid_order(client, clock, "A-1")
    receiver.answers = [503] * 10_000
    for _ in range(40):
        deliver_events(database, settings, clients.events, clock.now())
        clock.advance(timedelta(hours=3))
    with database.transaction() as session:
        statuses = set(session.execute(select(OutboundEvent.status)).scalars())
        assert session.execute(select(PausedEndpoint.endpoint_url)).scalar_one() == receiver.url
    assert statuses <= {"failed", "paused"} and "failed" in statuses
    calls = len(receiver.calls)
    refund = {
        "id": "evt-r",
        "type": "order.refunded",
        "order": {"id": "A-1", "currency": "USD"},
        "refund": {"id": "r1", "amount": "10.00"},
    }
    post_orders(client, refund, at=int(clock.now().timestamp()))
    deliver_events(database, settings, clients.events, clock.now())
    assert len(receiver.calls) == calls  # paused: new events wait
    from click.testing import CliRunner

    from walletcards.cli import main

    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    resumed = CliRunner().invoke(
        main, ["events", "resume", "--program", "demo", receiver.url], env=env
    )
    assert resumed.exit_code == 0, resumed.output
    receiver.answers = []
    from datetime import UTC, datetime

    assert (
        deliver_events(database, settings, clients.events, datetime.now(UTC) + timedelta(minutes=1))
        >= 1
    )
