"""Messages on Google Wallet through the real client and the loopback fake Google: one class
``addMessage`` for everyone, object messages for a narrower audience within the budget of 3
notifying updates per card per 24 hours; every body valid against the discovery document."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fakes.google import FakeGoogle
from tests.kit.passes import paid_order
from tests.kit.web import json_of
from tests.messages.helpers import URL, message, post
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card
from walletcards.sync.jobs import run_due
from walletcards.sync.worker import Worker


def added(fake: FakeGoogle, kind: str) -> list[dict[str, Any]]:
    return [body for method, path, body in fake.calls if path == f"{kind}/addMessage" and body]


def test_a_message_to_everyone_is_one_class_message(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    clock: FixedClock,
    fake_google: FakeGoogle,
    clients: Clients,
    worker: Worker,
) -> None:
    paid_order(client, clock, "A-1", customer="c-1")
    paid_order(client, clock, "A-2", customer="c-2")
    worker.drain()  # the cards' Google objects
    text = {"en": "Fresh croissants", "ru": "Свежие круассаны"}
    body = {**message(), "text": text, "expires_at": "2026-03-05T00:00:00Z"}
    message_id = json_of(post(client, body, manager))["message"]["id"]
    run_due(database, clock.now(), clients)
    sent = added(fake_google, "loyaltyClass")
    assert len(sent) == 1 and added(fake_google, "loyaltyObject") == []
    assert sent[0]["message"]["messageType"] == "TEXT_AND_NOTIFY"
    assert sent[0]["message"]["body"] == "Fresh croissants"
    assert sent[0]["message"]["displayInterval"]["end"] == {"date": "2026-03-05T00:00:00+00:00"}
    assert [
        m["body"] for m in next(iter(fake_google.store["loyaltyClass"].values()))["messages"]
    ] == ["Fresh croissants"]
    shown = json_of(client.get(f"{URL}/{message_id}", headers=manager))
    assert shown["google_updated"] == 2 and shown["skipped"]["no_device"] == 0
    run_due(database, clock.now(), clients)
    assert len(added(fake_google, "loyaltyClass")) == 1  # once


def test_listed_members_get_object_messages_within_the_notification_budget(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    clock: FixedClock,
    fake_google: FakeGoogle,
    clients: Clients,
    worker: Worker,
) -> None:
    paid_order(client, clock, "A-1", customer="c-1")
    paid_order(client, clock, "A-2", customer="c-2")
    worker.drain()
    with database.transaction() as session:
        number = session.execute(select(Card.member_number).order_by(Card.id)).scalars().first()
    for n in range(4):
        post(client, message(f"News {n}", audience={"members": [number]}), manager)
    run_due(database, clock.now(), clients)
    sent = added(fake_google, "loyaltyObject")
    assert [m["message"]["body"] for m in sent] == [f"News {n}" for n in range(4)]
    kinds = [m["message"]["messageType"] for m in sent]
    assert kinds == ["TEXT_AND_NOTIFY"] * 3 + ["TEXT"]  # the 4th within 24 h: silently
    assert added(fake_google, "loyaltyClass") == []
    stored = [o for o in fake_google.store["loyaltyObject"].values() if o.get("messages")]
    assert len(stored) == 1 and len(stored[0]["messages"]) == 4
