"""The integration API for redemptions: reserve, read, capture, release; who may call it; and
an integration account refused everywhere else."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.admin.test_api import admin_calls, call, number
from tests.kit.web import json_of
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.loyalty.verify import verify

BASE = "/api/v1/programs/demo/redemptions"


@pytest.fixture
def program(apple_program: Program) -> Program:
    return apple_program


def reserve(
    client: FlaskClient,
    headers: dict[str, str],
    member: str,
    points: int = 200,
    key: str | None = None,
    **extra: Any,
) -> Any:
    body = {"customer": {"member_number": member}, "points": points, "channel": "api", **extra}
    return client.post(
        BASE, json=body, headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())}
    )


def test_reserve_read_capture(
    client: FlaskClient, integration: dict[str, str], card_code: str, database: Database
) -> None:
    member = number(card_code)
    made = reserve(client, integration, member, key="r-1", reference="cart-7")
    assert made.status_code == 201, made.json
    redemption = made.json["redemption"]
    assert redemption["status"] == "reserved" and redemption["points"] == 200
    assert redemption["value"] == {"amount": "2.00", "currency": "USD"}
    assert redemption["code"].startswith("DEMO-") and redemption["expires_at"]
    assert made.json["balance"] == {"available": 350, "pending": 0}
    again = reserve(client, integration, member, key="r-1", reference="cart-7")
    assert (again.status_code, again.json) == (201, made.json)
    conflict = reserve(client, integration, member, points=300, key="r-1")
    assert conflict.status_code == 409
    assert conflict.json["error"]["code"] == "idempotency_conflict"
    url = f"{BASE}/{redemption['id']}"
    assert client.get(url, headers=integration).json == made.json
    body = {"order_id": "1001", "order_total": "4.00"}  # max_share 50 %: the least for $2.00
    done = call(client, "POST", f"{url}/capture", body, integration)
    assert done.status_code == 200
    assert (done.json["redemption"]["status"], done.json["redemption"]["order_id"]) == (
        "captured",
        "1001",
    )
    refused = call(client, "POST", f"{url}/release", {}, integration)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "redemption_closed"
    with database.transaction() as session:
        assert verify(session) == []


def test_a_capture_over_max_share_is_refused_and_the_reservation_stays_open(
    client: FlaskClient, integration: dict[str, str], card_code: str, database: Database
) -> None:
    """The demo's max_share is 50 %: a $2.00 code needs an order of $4.00 before it. Channel
    "api" has no shop enforcing that, so the storefront must say what the order comes to."""
    made = reserve(client, integration, number(card_code)).json["redemption"]
    url = f"{BASE}/{made['id']}/capture"
    over = call(client, "POST", url, {"order_id": "7", "order_total": "3.99"}, integration)
    assert over.status_code == 409
    assert over.json["error"]["code"] == "share_exceeded"
    assert "4.00" in over.json["error"]["message"]
    missing = call(client, "POST", url, {"order_id": "7"}, integration)
    assert missing.status_code == 422
    assert missing.json["error"]["code"] == "order_total_required"
    for bad in (4, "4.001", "-4", "4e2", "NaN", " 4", "1" * 16, ""):
        answer = call(client, "POST", url, {"order_total": bad}, integration)
        assert answer.status_code == 422, (bad, answer.json)
        assert answer.json["error"]["code"] == "invalid_order_total", bad
    shown = json_of(client.get(f"{BASE}/{made['id']}", headers=integration))
    assert shown["redemption"]["status"] == "reserved"
    done = call(client, "POST", url, {"order_id": "7", "order_total": "10"}, integration)
    assert done.status_code == 200 and done.json["redemption"]["status"] == "captured"
    again = call(client, "POST", url, {"order_id": "7"}, integration)  # captured: no total needed
    assert again.status_code == 200 and again.json["redemption"]["status"] == "captured"
    with database.transaction() as session:
        assert verify(session) == []


def test_release_then_capture_is_refused(
    client: FlaskClient, manager: dict[str, str], card_code: str
) -> None:
    made = reserve(client, manager, number(card_code), points=550).json["redemption"]
    url = f"{BASE}/{made['id']}"
    released = call(client, "POST", f"{url}/release", {}, manager)
    assert released.status_code == 200
    assert released.json["redemption"]["released_cause"] == "api"
    assert released.json["balance"]["available"] == 550
    twice = call(client, "POST", f"{url}/release", {}, manager)
    assert twice.status_code == 200 and twice.json["balance"]["available"] == 550
    late = call(client, "POST", f"{url}/capture", {}, manager)
    assert late.status_code == 409 and late.json["error"]["code"] == "redemption_closed"


def test_over_reserving_and_bad_input_are_clear_errors(
    client: FlaskClient, integration: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    over = reserve(client, integration, member, points=551)
    assert over.status_code == 422 and over.json["error"]["code"] == "insufficient_points"
    rules = reserve(client, integration, member, points=50)
    assert rules.status_code == 422 and rules.json["error"]["code"] == "limit_exceeded"
    good = {"customer": {"member_number": member}, "points": 200, "channel": "api"}
    for patch, status, code in (
        ({"points": 0}, 422, "invalid_points"),
        ({"points": True}, 422, "invalid_points"),
        ({"points": "200"}, 422, "invalid_points"),
        ({"points": 2**63}, 422, "invalid_number"),
        ({"channel": "pos"}, 422, "invalid_channel"),
        ({"reference": "x" * 201}, 422, "invalid_reference"),
        ({"reference": "a\x00b"}, 422, "invalid_text"),
        ({"customer": {"member_number": "1" * 21}}, 422, "invalid_customer"),
        ({"customer": {"email": "a@b.c", "member_number": member}}, 422, "invalid_customer"),
        ({"customer": "ann"}, 422, "invalid_customer"),
        ({"customer": {"email": "nobody@example.com"}}, 404, "unknown_customer"),
        ({"customer": {"external_id": "shopify:x:customer:1"}}, 404, "unknown_customer"),
        ({"customer": {"member_number": "999999"}}, 404, "unknown_customer"),
    ):
        answer = call(client, "POST", BASE, {**good, **patch}, integration)
        assert answer.status_code == status, (patch, answer.json)
        assert answer.json["error"]["code"] == code, (patch, answer.json)
    malformed = client.post(
        BASE, data=b"{not json", headers={**integration, "Idempotency-Key": "m-1"}
    )
    assert malformed.status_code == 400
    unkeyed = client.post(BASE, json=good, headers=integration)
    assert unkeyed.status_code == 400
    assert json_of(unkeyed)["error"]["code"] == "idempotency_key_required"
    for url in (f"{BASE}/12345", f"{BASE}/{2**64}"):
        assert client.get(url, headers=integration).status_code == 404
    by_email = call(
        client, "POST", BASE, {**good, "customer": {"email": "CUST-1@example.com"}}, integration
    )
    assert by_email.status_code == 201, by_email.json


def test_who_may_call_it(
    client: FlaskClient,
    integration: dict[str, str],
    cashier: dict[str, str],
    card_code: str,
) -> None:
    member = number(card_code)
    made = reserve(client, integration, member).json["redemption"]
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", BASE, {"customer": {"member_number": member}, "points": 200, "channel": "api"}),
        ("GET", f"{BASE}/{made['id']}", None),
        ("POST", f"{BASE}/{made['id']}/capture", {}),
        ("POST", f"{BASE}/{made['id']}/release", {}),
    ]
    for method, url, body in calls:
        assert call(client, method, url, body, {}).status_code == 401, url
        refused = call(client, method, url, body, cashier)
        assert refused.status_code == 403, (url, refused.json)
        assert refused.json["error"]["code"] == "forbidden"
        other = call(client, method, url.replace("/demo/", "/other/"), body, integration)
        assert other.status_code == 404, url


def test_an_integration_account_reads_customers_and_nothing_else(
    client: FlaskClient, integration: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    allowed = {
        f"/api/v1/programs/demo/customers?q={member}",
        f"/api/v1/programs/demo/cards/{member}",
    }
    for method, url, body in admin_calls(member):
        answer = call(client, method, url, body, integration)
        expected = 200 if url in allowed else 403
        assert answer.status_code == expected, (url, answer.get_data()[:300])
    till = [("scan", {"code": card_code}), ("earn", {"code": card_code, "amount": "1.00"})]
    for path, till_body in [*till, ("redeem", {"code": card_code, "points": 10})]:
        answer = call(client, "POST", f"/api/v1/cashier/{path}", till_body, integration)
        assert answer.status_code == 403, (path, answer.json)
