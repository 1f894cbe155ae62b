"""On the pass and the proof of delivery: the message is a back field with ``changeMessage``
(the lock screen shows it), ``pushed`` rises when APNs accepts the push and
``fetched_by_phone`` only when the phone GETs the pass version carrying it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fakes.apns import FakeApns
from tests.kit.apple import PTID
from tests.kit.passes import auth, fields, paid_order, pass_json, token_of, unpack
from tests.kit.web import json_of
from tests.messages.helpers import URL, message, post, register
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.settings import Settings
from walletcards.sync.jobs import run_due
from walletcards.sync.worker import Worker

LINK = "https://shop.example/croissants"


@pytest.fixture
def program(apple_program: Program) -> Program:
    return apple_program


@pytest.fixture
def settings(apns_settings: Settings) -> Settings:
    return apns_settings


def figures(client: FlaskClient, manager: dict[str, str], message_id: int) -> dict[str, Any]:
    return json_of(client.get(f"{URL}/{message_id}", headers=manager))


def test_the_phone_fetching_the_new_pass_is_the_proof_of_delivery(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    clock: FixedClock,
    apns: FakeApns,
    worker: Worker,
) -> None:
    serial, secret = register(
        client, database, token_of(paid_order(client, clock, "A-1")), "phone", "aa" * 32
    )
    worker.drain()
    apns.requests.clear()
    body = message(link=LINK, expires_at=(clock.now() + timedelta(days=3)).isoformat())
    message_id = json_of(post(client, body, manager))["message"]["id"]
    clock.advance(timedelta(minutes=1))
    run_due(database, clock.now())
    shown = figures(client, manager, message_id)
    assert (shown["cards"], shown["pushed"], shown["fetched_by_phone"]) == (1, 0, 0)

    assert worker.drain().pushed == 1 and len(apns.requests) == 1
    shown = figures(client, manager, message_id)
    assert (shown["pushed"], shown["fetched_by_phone"]) == (1, 0)

    url = f"/passkit/v1/passes/{PTID}/{serial}"
    assert client.head(url, headers=auth(secret)).status_code == 200
    assert figures(client, manager, message_id)["fetched_by_phone"] == 0  # a HEAD is no fetch
    fetched = client.get(url, headers=auth(secret))
    back = fields(pass_json(unpack(fetched.data)))
    assert back["message"]["value"] == "Fresh croissants today"
    assert back["message"]["changeMessage"] == "%@"  # the lock screen shows the text
    assert back["message_link"]["value"] == LINK and "changeMessage" not in back["message_link"]
    assert figures(client, manager, message_id)["fetched_by_phone"] == 1
    client.get(url, headers=auth(secret))
    assert figures(client, manager, message_id)["fetched_by_phone"] == 1  # once per card

    clock.advance(timedelta(days=3))  # expired: the card is pushed once more, without it
    apns.requests.clear()
    run_due(database, clock.now())
    run_due(database, clock.now())  # once
    assert worker.drain().pushed == 1 and len(apns.requests) == 1
    assert "message" not in fields(pass_json(unpack(client.get(url, headers=auth(secret)).data)))


def test_a_pass_fetched_before_the_message_proves_nothing(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    clock: FixedClock,
    apns: FakeApns,
    worker: Worker,
) -> None:
    serial, secret = register(
        client, database, token_of(paid_order(client, clock, "A-1")), "phone", "aa" * 32
    )
    worker.drain()
    message_id = json_of(post(client, message(), manager))["message"]["id"]
    old = client.get(f"/passkit/v1/passes/{PTID}/{serial}", headers=auth(secret))
    assert "message" not in fields(pass_json(unpack(old.data)))
    run_due(database, clock.now())
    assert figures(client, manager, message_id)["fetched_by_phone"] == 0
