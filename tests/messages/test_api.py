"""The owner's messages API: a manager schedules, lists, reads and cancels messages; malformed,
oversized, unauthorised and duplicate requests are refused and change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.kit.programs import MakeCard
from tests.kit.web import json_of
from tests.messages.helpers import URL, member, message, post, recipients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.messages.models import Message
from walletcards.sync.jobs import run_due


def count(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def test_a_manager_schedules_a_message_and_reads_its_figures(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    program: Program,
    make_card: MakeCard,
    clock: FixedClock,
) -> None:
    member(database, make_card, program, clock, "ann")
    member(database, make_card, program, clock, "bob", device=False)
    body = message(send_at="2026-03-02T10:00:00+00:00", expires_at="2026-03-09T10:00:00Z")
    created = post(client, body, manager)
    assert created.status_code == 201, created.json
    answer = json_of(created)["message"]
    assert answer["status"] == "scheduled" and answer["audience_size"] == 2
    listed = json_of(client.get(URL, headers=manager))["messages"]
    assert [m["id"] for m in listed] == [answer["id"]]
    shown = json_of(client.get(f"{URL}/{answer['id']}", headers=manager))
    assert shown["cards"] == 0 and shown["skipped"] == {"no_consent": 0, "cap": 0, "no_device": 0}
    run_due(database, clock.now())  # not due yet
    assert recipients(database, answer["id"]) == {}


def test_a_message_is_cancelled_before_it_is_sent_and_never_sent(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    program: Program,
    make_card: MakeCard,
    clock: FixedClock,
) -> None:
    member(database, make_card, program, clock, "ann")
    created = json_of(post(client, message(send_at="2026-03-02T10:00:00Z"), manager))["message"]
    cancelled = post(client, {}, manager, url=f"{URL}/{created['id']}/cancel")
    assert cancelled.status_code == 200 and json_of(cancelled)["message"]["status"] == "cancelled"
    clock.advance(timedelta(days=2))
    run_due(database, clock.now())
    assert recipients(database, created["id"]) == {}
    sent = json_of(post(client, message("Now"), manager))["message"]
    run_due(database, clock.now())
    late = post(client, {}, manager, url=f"{URL}/{sent['id']}/cancel")
    assert late.status_code == 409 and json_of(late)["error"]["code"] == "already_sent"


def test_a_replayed_write_gets_the_first_answer_and_another_body_is_refused(
    client: FlaskClient, manager: dict[str, str], database: Database, program: Program
) -> None:
    first = post(client, message(), manager, key="same-key")
    again = post(client, message(), manager, key="same-key")
    assert first.status_code == again.status_code == 201 and first.json == again.json
    other = post(client, message("Another"), manager, key="same-key")
    assert other.status_code == 409 and json_of(other)["error"]["code"] == "idempotency_conflict"
    assert count(database) == 1


TOO_MANY = [f"{n:08d}" for n in range(10_001)]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**message(), "text": {"en": "x" * 501}}, "invalid_message"),
        ({**message(), "text": {"fr": "Bonjour"}}, "invalid_message"),
        ({**message(), "text": {"ru": "Привет"}}, "invalid_message"),  # no default language
        ({**message(), "text": {"en": "a\u0000b"}}, "invalid_text"),
        ({**message(), "link": "javascript:alert(1)"}, "invalid_message"),
        ({**message(), "link": "https://x.example/" + "a" * 500}, "invalid_message"),
        ({**message(), "kind": "spam"}, "invalid_message"),
        ({**message(), "audience": {"all": True, "segment": "lost"}}, "invalid_message"),
        ({**message(), "audience": {"segment": "nobody"}}, "invalid_message"),
        ({**message(), "audience": {"tiers": ["platinum"]}}, "invalid_message"),
        ({**message(), "audience": {"members": TOO_MANY}}, "invalid_message"),
        ({**message(), "send_at": "2026-03-02T10:00:00"}, "invalid_message"),  # no offset
        ({**message(), "send_at": "2099-01-01T00:00:00Z"}, "invalid_message"),
        ({**message(), "send_at": "9" * 1000}, "invalid_message"),
        ({**message(), "send_at": "0001-01-01T00:00:00+01:00"}, "invalid_message"),  # < year 1
        ({**message(), "expires_at": "9999-12-31T23:59:59-01:00"}, "invalid_message"),  # > 9999
        ({**message(), "expires_at": "2026-02-01T00:00:00Z"}, "invalid_message"),
        ({**message(), "channels": ["sms"]}, "invalid_message"),
        ({**message(), "extra": 1}, "invalid_message"),
        ({**message(), "audience": {"members": [1e999]}}, "invalid_number"),
    ],
)
def test_bad_messages_are_refused_and_change_nothing(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    program: Program,
    body: dict[str, Any],
    code: str,
) -> None:
    response = post(client, body, manager)
    assert response.status_code == 422, response.json
    assert json_of(response)["error"]["code"] == code
    assert count(database) == 0


def test_malformed_and_oversized_bodies_are_refused(
    client: FlaskClient, manager: dict[str, str], database: Database, program: Program
) -> None:
    headers = {**manager, "Idempotency-Key": "k1", "Content-Type": "application/json"}
    assert client.post(URL, data=b"[" * 100_000, headers=headers).status_code in (400, 413)
    assert client.post(URL, data=b"{not json", headers=headers).status_code == 400
    huge = b'{"text": {"en": "' + b"x" * 3_000_000 + b'"}}'
    assert client.post(URL, data=huge, headers=headers).status_code == 413
    no_key = client.post(URL, json=message(), headers=manager)
    assert json_of(no_key)["error"]["code"] == "idempotency_key_required"
    assert client.get(URL + "/99999999999999999999", headers=manager).status_code == 404
    assert client.get(URL + "/1e999", headers=manager).status_code == 404
    assert client.get(URL + "/%C2%B2", headers=manager).status_code == 404  # "²" is a digit
    assert count(database) == 0


def test_only_a_manager_of_the_programme_may_message(
    client: FlaskClient,
    manager: dict[str, str],
    cashier: dict[str, str],
    database: Database,
    program: Program,
) -> None:
    assert post(client, message(), {}).status_code == 401
    refused = post(client, message(), cashier)
    assert refused.status_code == 403 and json_of(refused)["error"]["code"] == "forbidden"
    assert client.get(URL, headers=cashier).status_code == 403
    other = post(client, message(), manager, url="/api/v1/programs/other/messages")
    assert other.status_code == 404
    assert count(database) == 0
