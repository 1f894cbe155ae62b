"""The owner's campaigns API: a manager adds, changes and lists campaigns (with their figures);
malformed, oversized, unauthorised and duplicate requests are refused and change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from tests.kit.programs import MakeCard, reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards
from walletcards.loyalty.models import Program
from walletcards.loyalty.rules import OrderFacts, OrderLine

URL = "/api/v1/programs/demo/campaigns"
DOUBLE = {
    "code": "double",
    "name": {"en": "Double days", "ru": "Двойные баллы"},
    "kind": "multiplier",
    "multiplier": "2",
    "starts": "2026-02-20",
    "ends": "2026-03-08",
}


def write(
    client: FlaskClient,
    method: str,
    url: str,
    body: Any,
    headers: dict[str, str],
    key: str | None = None,
) -> Any:
    sent = {**headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return client.open(url, method=method, json=body, headers=sent)


def stored(client: FlaskClient, manager: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(URL, headers=manager)
    assert response.status_code == 200, response.json
    campaigns: list[dict[str, Any]] = response.get_json()["campaigns"]
    return campaigns


def test_a_manager_adds_a_campaign_and_orders_earn_it(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    program: Program,
    make_card: MakeCard,
    clock: FixedClock,
) -> None:
    created = write(client, "POST", URL, DOUBLE, manager)
    assert created.status_code == 201, created.json
    assert created.json["status"] == "running" and created.json["definition"] == DOUBLE
    card = make_card(program, email="api@example.com")
    with database.transaction() as session:
        fresh = session.get(Program, program.id, populate_existing=True)
        assert fresh is not None
        facts = OrderFacts("orders", "1", "USD", clock.now(), (OrderLine(1000),))
        award = awards.award_paid_order(session, fresh, card.id, facts, clock.now())
        assert [e.points for e in award.entries] == [50, 300, 50]  # earn, welcome, campaign
    (listed,) = stored(client, manager)
    assert listed["figures"]["reach"] == 1 and listed["figures"]["points_paid"] == 50
    assert listed["figures"]["orders"] == {"during": 1, "before": 0}
    assert listed["figures"]["spend"]["during"] == {"amount": "10.00", "currency": "USD"}
    with database.transaction() as session:
        assert reload_card(session, card.id).pending == 400


def test_a_manager_ends_a_campaign_early_and_removes_a_key(
    client: FlaskClient, manager: dict[str, str], clock: FixedClock
) -> None:
    assert write(client, "POST", URL, {**DOUBLE, "tiers": ["gold"]}, manager).status_code == 201
    end = datetime(2026, 3, 1, 0, 0, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    changed = write(
        client, "PATCH", f"{URL}/double", {"ends": "2026-02-28T12:00", "tiers": None}, manager
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["status"] == "ended" and "tiers" not in changed.json["definition"]
    assert changed.json["window"]["end"] < end.isoformat() <= clock.now().isoformat()


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    client: FlaskClient, manager: dict[str, str]
) -> None:
    first = write(client, "POST", URL, DOUBLE, manager, key="k1")
    again = write(client, "POST", URL, DOUBLE, manager, key="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    other = write(client, "POST", URL, {**DOUBLE, "code": "other"}, manager, key="k1")
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_conflict"
    twice = write(client, "POST", URL, DOUBLE, manager)  # a new key, the same code
    assert twice.status_code == 409 and twice.json["error"]["code"] == "duplicate_campaign"
    assert [c["code"] for c in stored(client, manager)] == ["double"]


def test_bad_campaigns_are_422_and_change_nothing(
    client: FlaskClient, manager: dict[str, str]
) -> None:
    bad_bodies: list[Any] = [
        {**DOUBLE, "kind": "lottery"},
        {**DOUBLE, "multiplier": "1e999"},
        {**DOUBLE, "points": 2**63},
        {**DOUBLE, "points": 1e999},
        {**DOUBLE, "starts": "2026-03-08", "ends": "2026-03-01"},
        {**DOUBLE, "code": "Has Spaces"},
        {**DOUBLE, "name": "x" * 201},
        {**DOUBLE, "segment": "a\x00b"},
        {**DOUBLE, "surprise": True},
        {key: value for key, value in DOUBLE.items() if key != "code"},
    ]
    for body in bad_bodies:
        response = write(client, "POST", URL, body, manager)
        assert response.status_code == 422, (body, response.json)
    for raw in (b"[1]", b"{", b'"text"', b"[" * 100_000):
        sent = {**manager, "Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
        response = client.post(URL, data=raw, headers=sent)
        assert response.status_code in (400, 422), raw[:10]
    oversized = write(client, "POST", URL, {**DOUBLE, "name": "x" * 3_000_000}, manager)
    assert oversized.status_code == 413
    no_key = client.post(URL, json=DOUBLE, headers=manager)
    assert no_key.status_code == 400
    assert (
        write(client, "PATCH", f"{URL}/missing", {"ends": "2026-03-09"}, manager).status_code == 404
    )
    assert write(client, "PATCH", f"{URL}/x", {"code": "y"}, manager).status_code == 404
    assert stored(client, manager) == []


def test_campaigns_need_a_manager_of_that_programme(
    client: FlaskClient, cashier: dict[str, str], manager: dict[str, str]
) -> None:
    for headers, status in (({}, 401), (cashier, 403), ({"Authorization": "Bearer nope"}, 401)):
        assert client.get(URL, headers=headers).status_code == status
        assert write(client, "POST", URL, DOUBLE, headers).status_code == status
        assert write(client, "PATCH", f"{URL}/double", {}, headers).status_code == status
    other = client.get("/api/v1/programs/other/campaigns", headers=manager)
    assert other.status_code == 404
    assert (
        write(client, "POST", "/api/v1/programs/other/campaigns", DOUBLE, manager).status_code
        == 404
    )
