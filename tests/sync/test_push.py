"""End to end with the real APNs client (httpx, HTTP/2, TLS client certificate) against the
loopback APNs: a ledger change reaches every registered device exactly once."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.fakes.apns import FakeApns
from tests.kit.apple import PTID
from tests.kit.passes import fields, paid_order, pass_json, token_of, unpack
from walletcards.apple.models import AppleRegistration
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card
from walletcards.sync.worker import Worker


def register(
    client: FlaskClient, database: Database, token: str, device: str, push_token: str
) -> tuple[str, str]:
    with database.transaction() as session:
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
        serial, secret = card.serial, card.auth_token
    response = client.post(
        f"/passkit/v1/devices/{device}/registrations/{PTID}/{serial}",
        json={"pushToken": push_token},
        headers={"Authorization": f"ApplePass {secret}"},
    )
    assert response.status_code == 201
    return serial, secret


def pushed_state(database: Database) -> list[tuple[int, int]]:
    with database.transaction() as session:
        return [tuple(r) for r in session.execute(select(Card.version, Card.pushed_version))]


def test_a_webhook_change_is_pushed_to_every_device_and_the_device_gets_the_new_pass(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    serial, secret = register(client, database, token, "phone", "aa" * 32)
    register(client, database, token, "watch", "bb" * 32)
    worker.drain()  # the card's first version reaches both devices
    assert len(apns.requests) == 2
    apns.requests.clear()

    paid_order(client, clock, "A-2", "20.00")  # a ledger change
    paid_order(client, clock, "A-3", "10.00")  # and another: coalesced into one push
    report = worker.drain()
    assert report.pushed == 2 and len(apns.requests) == 2
    for request in apns.requests:
        assert request.method == "POST" and request.path.startswith("/3/device/")
        assert request.headers["apns-topic"] == PTID
        assert request.body == b"{}"
        assert request.client_subject is not None and f"userId={PTID}" in request.client_subject
    assert {r.token for r in apns.requests} == {"aa" * 32, "bb" * 32}
    assert all(version == pushed for version, pushed in pushed_state(database))

    fetched = client.get(
        f"/passkit/v1/passes/{PTID}/{serial}", headers={"Authorization": f"ApplePass {secret}"}
    )
    assert fields(pass_json(unpack(fetched.data)))["pending"]["value"] == 250 + 300 + 140 + 70
    assert worker.drain().cards == 0  # nothing left to push


def test_410_removes_the_registration(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    register(client, database, token, "phone", "dd" * 32)
    apns.script["dd" * 32] = [410]
    report = worker.drain()
    assert report.dead == 1
    with database.transaction() as session:
        assert (
            session.execute(select(func.count()).select_from(AppleRegistration)).scalar_one() == 0
        )
    assert all(version == pushed for version, pushed in pushed_state(database))


def test_429_is_retried_later_and_then_succeeds(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    register(client, database, token, "phone", "ee" * 32)
    apns.script["ee" * 32] = [429, 500]
    assert worker.drain().retry == 1
    assert worker.drain().cards == 0  # backing off: not retried at once
    assert pushed_state(database)[0][1] == 0
    clock.advance(timedelta(minutes=10))
    assert worker.drain().retry == 1  # the 500
    clock.advance(timedelta(minutes=10))
    assert worker.drain().pushed == 1
    assert len(apns.pushes_to("ee" * 32)) == 3
    assert all(version == pushed for version, pushed in pushed_state(database))


def test_a_dropped_connection_is_survived(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    register(client, database, token, "phone", "cc" * 32)
    apns.script["cc" * 32] = ["drop"]
    assert worker.drain().retry == 1
    clock.advance(timedelta(minutes=10))
    assert worker.drain().pushed == 1
    assert apns.connections == 2  # reconnected


def test_cards_without_devices_are_marked_pushed_without_traffic(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    paid_order(client, clock, "A-1")
    assert worker.drain().cards == 1
    assert apns.requests == []
    assert all(version == pushed for version, pushed in pushed_state(database))
