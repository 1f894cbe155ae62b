"""Input no column can hold is a clear 4xx on the owner's API and dashboard, and writes nothing:
NUL characters (PostgreSQL refuses them), unpaired surrogates, text longer than its column,
numbers beyond a BIGINT or not finite, JSON nested too deep or with a 5000-digit number."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.admin.test_api import BASE, call, number
from tests.admin.test_corrections import adjust
from tests.cashier.test_api import login as till_login
from tests.kit.web import json_of
from walletcards.cashier.models import TillRequest
from walletcards.db import Database
from walletcards.loyalty.models import LedgerEntry, Program


@pytest.fixture
def program(apple_program: Program) -> Program:
    """The Apple kit's programme (passes, the signed-JSON webhook)."""
    return apple_program


def written(database: Database) -> tuple[int, int, str]:
    """Ledger entries, stored write answers, the programme's config version."""
    with database.transaction() as session:
        return (
            session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one(),
            session.execute(select(func.count()).select_from(TillRequest)).scalar_one(),
            session.execute(select(Program.config_hash)).scalar_one(),
        )


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    assert response.json["error"]["code"] == code, response.json
    assert set(response.json["error"]) == {"code", "message"}


def raw(client: FlaskClient, method: str, url: str, text: str, headers: dict[str, str]) -> Any:
    """A body sent exactly as written (json= would escape what we want to send raw)."""
    return client.open(
        url,
        method=method,
        data=text,
        content_type="application/json",
        headers={**headers, "Idempotency-Key": f"k-{hash(text)}"},
    )


def test_nul_characters_anywhere_are_refused_and_nothing_is_written(
    client: FlaskClient, database: Database, manager: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    credit = adjust(client, member, 100, manager)
    before = written(database)
    adjustments = f"{BASE}/cards/{member}/adjustments"
    reversal = f"{BASE}/cards/{member}/entries/{credit}/reversal"
    for method, url, body in [
        ("GET", f"{BASE}/customers?q=a%00", None),
        ("GET", f"{BASE}/customers?q%00=a", None),
        ("GET", f"{BASE}/cards/{member}%00", None),
        ("GET", "/api/v1/programs/de%00mo/metrics", None),
        ("GET", f"{BASE}/metrics?from=2026-01-01%00", None),
        ("POST", adjustments, {"points": 5, "reason": "goodwill\x00"}),
        ("POST", adjustments, {"points": 5, "reason": "goodwill", "note\x00": 1}),
        ("POST", reversal, {"reason": "wrong\x00customer"}),
        ("POST", f"{BASE}/cards/{member}/resend-email", {"why": "\x00"}),
    ]:
        refused(call(client, method, url, body, manager), 422, "invalid_text")
    config = json_of(client.get(f"{BASE}/settings", headers=manager))["config"]
    for path in (["name"], ["tiers", "levels", 0, "name"], ["webhooks", "orders_secret"]):
        document = copy.deepcopy(config)
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = "Demo\x00"
        answer = client.put(f"{BASE}/settings", json={"config": document}, headers=manager)
        refused(answer, 422, "invalid_text")
    header = {**manager, "Idempotency-Key": "key\x00"}
    refused(client.post(adjustments, json={"points": 5, "reason": "x"}, headers=header), 400,
            "invalid_header")  # fmt: skip
    assert written(database) == before


def test_unpaired_surrogates_are_refused(
    client: FlaskClient, database: Database, manager: dict[str, str], card_code: str
) -> None:
    before = written(database)
    body = '{"points": 5, "reason": "bad \\ud800 half"}'
    answer = raw(client, "POST", f"{BASE}/cards/{number(card_code)}/adjustments", body, manager)
    refused(answer, 422, "invalid_text")
    assert written(database) == before


def test_text_longer_than_its_column_is_422(
    client: FlaskClient, database: Database, manager: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    before = written(database)
    refused(client.get(f"{BASE}/customers?q={'a' * 321}", headers=manager), 422, "invalid_query")
    config = json_of(client.get(f"{BASE}/settings", headers=manager))["config"]
    long_name = {**config, "name": "N" * 201}
    answer = client.put(f"{BASE}/settings", json={"config": long_name}, headers=manager)
    refused(answer, 422, "invalid_settings")
    assert "name" in json_of(answer)["error"]["message"]
    long_url = {**config, "events": [{"url": "https://crm.example/" + "x" * 500, "secret": "s"}]}
    answer = client.put(f"{BASE}/settings", json={"config": long_url}, headers=manager)
    refused(answer, 422, "invalid_settings")
    assert "events[0].url: at most 500" in json_of(answer)["error"]["message"]
    for reason in ("r" * 501, " "):
        body = {"points": 5, "reason": reason}
        answer = call(client, "POST", f"{BASE}/cards/{member}/adjustments", body, manager)
        refused(answer, 422, "invalid_reason")
    refused(client.get(f"{BASE}/cards/{'1' * 21}", headers=manager), 404, "unknown_card")
    assert written(database) == before


@pytest.mark.parametrize(
    "text",
    [
        '{"points": 18446744073709551616, "reason": "2^64"}',
        '{"points": -18446744073709551616, "reason": "-2^64"}',
        '{"points": 1e999, "reason": "infinity"}',
        '{"points": NaN, "reason": "not a number"}',
        '{"points": 5, "reason": "ok", "extra": [-1e999]}',
    ],
)
def test_numbers_beyond_bounds_are_422(
    client: FlaskClient, database: Database, manager: dict[str, str], card_code: str, text: str
) -> None:
    before = written(database)
    answer = raw(client, "POST", f"{BASE}/cards/{number(card_code)}/adjustments", text, manager)
    refused(answer, 422, "invalid_number")
    assert written(database) == before


def test_settings_with_numbers_beyond_bounds_or_nested_too_deep_are_422(
    client: FlaskClient, database: Database, manager: dict[str, str]
) -> None:
    before = written(database)
    config = json_of(client.get(f"{BASE}/settings", headers=manager))["config"]
    text = json.dumps({"config": config})
    infinite = text.replace('"points": 300', '"points": 1e999', 1)
    assert infinite != text
    refused(raw(client, "PUT", f"{BASE}/settings", infinite, manager), 422, "invalid_number")
    deep = json.dumps({"config": {**config, "x": json.loads("[" * 900 + "]" * 900)}})
    refused(raw(client, "PUT", f"{BASE}/settings", deep, manager), 422, "too_deep")
    types = {**config, "events": [{"url": "https://crm.example", "secret": "s", "types": [{}]}]}
    answer = client.put(f"{BASE}/settings", json={"config": types}, headers=manager)
    refused(answer, 422, "invalid_settings")
    assert "events[0].types" in json_of(answer)["error"]["message"]
    assert written(database) == before


def test_a_number_of_5000_digits_is_malformed_json_not_a_500(
    client: FlaskClient, database: Database, manager: dict[str, str], card_code: str
) -> None:
    before = written(database)
    text = '{"points": ' + "9" * 5000 + ', "reason": "big"}'
    answer = raw(client, "POST", f"{BASE}/cards/{number(card_code)}/adjustments", text, manager)
    refused(answer, 400, "malformed_json")
    assert written(database) == before


def test_a_range_ending_in_year_1_is_422_not_an_overflow(
    client: FlaskClient, manager: dict[str, str]
) -> None:
    refused(client.get(f"{BASE}/metrics?to=0001-01-01", headers=manager), 422, "invalid_range")
    till_login(client, area="admin", email="boss@example.com")
    assert client.get("/admin/?to=0001-01-01").status_code == 400
    refused(client.get("/admin/export.csv?to=0001-01-01"), 422, "invalid_range")


def test_the_dashboard_refuses_nul_characters_in_its_form_and_query(
    client: FlaskClient, manager: dict[str, str]
) -> None:
    page = client.get("/admin/?program=demo").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": csrf, "program": "demo\x00", "email": "boss@example.com", "password": "x"}
    # the sign-in form answers with its own 400 page (tests/cashier/test_signin.py)
    assert client.post("/admin/login", data=form).status_code == 400
    till_login(client, area="admin", email="boss@example.com")
    refused(client.get("/admin/export.csv?table=tiers%00"), 422, "invalid_text")
