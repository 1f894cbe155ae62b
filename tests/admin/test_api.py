"""The owner's API: managers adjust and look up; cashiers get 403 everywhere; every route of
the app is in the OpenAPI document."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.kit.web import json_of
from walletcards.loyalty.models import Program

BASE = "/api/v1/programs/demo"


@pytest.fixture
def program(apple_program: Program) -> Program:
    """The Apple kit's programme (passes, the signed-JSON webhook)."""
    return apple_program


def number(code: str) -> str:
    return code.split("-")[0]


def admin_calls(member: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"{BASE}/customers?q={member}", None),
        ("GET", f"{BASE}/cards/{member}", None),
        ("POST", f"{BASE}/cards/{member}/adjustments", {"points": 5, "reason": "goodwill"}),
        ("POST", f"{BASE}/cards/{member}/resend-email", {}),
        ("POST", f"{BASE}/cards/{member}/entries/1/reversal", {"reason": "typo"}),
        ("GET", f"{BASE}/metrics", None),
        ("GET", f"{BASE}/settings", None),
        ("PUT", f"{BASE}/settings", {"config": {"slug": "demo"}}),
    ]


def call(client: FlaskClient, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    return client.open(url, method=method, json=body, headers=headers)


def test_a_cashier_gets_403_on_every_admin_endpoint(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    for method, url, body in admin_calls(number(card_code)):
        response = call(client, method, url, body, cashier)
        assert response.status_code == 403, (url, response.json)
        assert response.json["error"]["code"] == "forbidden"


def test_no_auth_is_401_everywhere(client: FlaskClient, card_code: str) -> None:
    for method, url, body in admin_calls(number(card_code)):
        assert call(client, method, url, body, {}).status_code == 401


def test_a_manager_finds_the_card_sees_its_ledger_and_adjusts_with_a_reason(
    client: FlaskClient, manager: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    found = client.get(f"{BASE}/customers?q=cust-1@example.com", headers=manager)
    assert found.status_code == 200 and json_of(found)["customers"][0]["member_number"] == member
    key = {"Idempotency-Key": "fix-1"}
    adjusted = client.post(
        f"{BASE}/cards/{member}/adjustments",
        headers={**manager, **key},
        json={"points": -50, "reason": "double-counted receipt"},
    )
    again = client.post(
        f"{BASE}/cards/{member}/adjustments",
        headers={**manager, **key},
        json={"points": -50, "reason": "double-counted receipt"},
    )
    assert adjusted.status_code == 200 and adjusted.json == again.json
    assert json_of(adjusted)["balance"]["available"] == 500
    card = json_of(client.get(f"{BASE}/cards/{member}", headers=manager))
    latest = card["entries"][0]
    assert (latest["points"], latest["actor"], latest["memo"]) == (
        50,
        "boss@example.com",
        "double-counted receipt",
    )
    for body, code in (
        ({"points": 5}, "invalid_reason"),
        ({"points": 0, "reason": "x"}, "invalid_points"),
        ({"points": 10**9, "reason": "millionaire"}, "limit_exceeded"),
        ({"points": -(10**6), "reason": "too much"}, "insufficient_points"),
    ):
        bad = call(client, "POST", f"{BASE}/cards/{member}/adjustments", body, manager)
        assert bad.status_code == 422 and bad.json["error"]["code"] == code, body
    other = client.get("/api/v1/programs/other/customers?q=x", headers=manager)
    assert other.status_code == 404


def test_every_route_is_in_the_openapi_document(app: Flask) -> None:
    document = json_of(app.test_client().get("/api/v1/openapi.json"))
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        assert rule.methods is not None
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path.replace("/webhooks/{slug}/", "/webhooks/{program}/"), method))
    missing = routes - documented
    assert missing == set(), missing
