"""POST /passkit/v1/log: open to anyone (Apple sends no credentials), so every request is
bounded and every client address (and everyone together) rate-limited; beyond that nothing is
stored."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from walletcards.apple.models import AppleLog
from walletcards.apple.webservice import (
    LOG_CLIENT_BURST,
    LOG_TOTAL_BURST,
    MAX_LOG_BYTES,
    MAX_LOG_MESSAGE_CHARS,
    MAX_LOG_MESSAGES,
)
from walletcards.clock import FixedClock
from walletcards.db import Database

URL = "/passkit/v1/log"


def stored(database: Database) -> list[str]:
    with database.transaction() as session:
        return list(session.execute(select(AppleLog.message).order_by(AppleLog.id)).scalars())


def post_log(client: FlaskClient, body: Any, address: str = "127.0.0.1") -> TestResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        URL, data=data, content_type="application/json", environ_base={"REMOTE_ADDR": address}
    )


def test_a_device_log_is_stored_with_nul_made_harmless(
    client: FlaskClient, database: Database
) -> None:
    response = post_log(client, {"logs": ["before\x00after", "plain"]})
    assert response.status_code == 200 and response.json == {}
    assert stored(database) == ["before\ufffdafter", "plain"]


def test_messages_beyond_the_per_request_caps_are_dropped(
    client: FlaskClient, database: Database
) -> None:
    response = post_log(client, {"logs": ["x" * 5000] + ["y"] * 100})
    assert response.status_code == 200
    messages = stored(database)
    assert len(messages) == MAX_LOG_MESSAGES
    assert messages[0] == "x" * MAX_LOG_MESSAGE_CHARS and set(messages[1:]) == {"y"}


def test_bodies_over_16_kib_are_413_and_store_nothing(
    client: FlaskClient, database: Database
) -> None:
    empty = len(json.dumps({"logs": [""]}))
    at_limit = post_log(client, {"logs": ["a" * (MAX_LOG_BYTES - empty)]})
    assert at_limit.status_code == 200
    over = post_log(client, {"logs": ["b" * (MAX_LOG_BYTES - empty + 1)]})
    assert over.status_code == 413
    assert over.json is not None and over.json["error"]["code"] == "request_entity_too_large"
    assert stored(database) == ["a" * MAX_LOG_MESSAGE_CHARS]


def test_malformed_log_bodies_are_a_clear_4xx_and_store_nothing(
    client: FlaskClient, database: Database
) -> None:
    bodies: list[Any] = [
        b"",
        b"not json",
        b"[]",
        b"[" * 200_000,
        {"logs": "text"},
        {"logs": [1]},
        {"logs": [["a"]]},
    ]
    for body in bodies:
        response = post_log(client, body)
        assert response.status_code in (400, 413), body
        assert response.json is not None and set(response.json["error"]) == {"code", "message"}
    assert stored(database) == []


def test_one_address_replaying_logs_is_cut_off_and_others_are_not(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    body = {"logs": ["the same message"]}
    statuses = [post_log(client, body, "203.0.113.7").status_code for _ in range(LOG_CLIENT_BURST)]
    assert statuses == [200] * LOG_CLIENT_BURST
    refused = post_log(client, body, "203.0.113.7")
    assert refused.status_code == 429
    assert refused.json is not None and refused.json["error"]["code"] == "too_many_requests"
    assert post_log(client, body, "203.0.113.8").status_code == 200
    assert len(stored(database)) == LOG_CLIENT_BURST + 1

    clock.advance(timedelta(minutes=6))  # refilled at 10 an hour: one more
    assert post_log(client, body, "203.0.113.7").status_code == 200
    assert post_log(client, body, "203.0.113.7").status_code == 429
    assert len(stored(database)) == LOG_CLIENT_BURST + 2


def test_ipv6_clients_are_limited_by_their_64(client: FlaskClient, database: Database) -> None:
    for i in range(LOG_CLIENT_BURST):
        assert post_log(client, {"logs": ["m"]}, f"2001:db8::{i + 1:x}").status_code == 200
    assert post_log(client, {"logs": ["m"]}, "2001:db8::ffff:1").status_code == 429
    assert post_log(client, {"logs": ["m"]}, "2001:db8:0:1::1").status_code == 200
    assert len(stored(database)) == LOG_CLIENT_BURST + 1


def test_all_clients_together_are_limited(client: FlaskClient, database: Database) -> None:
    statuses = [
        post_log(client, {"logs": ["m"]}, f"10.0.{i // 250}.{i % 250}").status_code
        for i in range(LOG_TOTAL_BURST + 5)
    ]
    assert statuses == [200] * LOG_TOTAL_BURST + [429] * 5
    assert len(stored(database)) == LOG_TOTAL_BURST
