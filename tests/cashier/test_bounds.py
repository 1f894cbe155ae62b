"""Every till endpoint refuses malformed, oversized, unauthenticated, replayed and duplicate
input with a 4xx and the error shape, and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.cashier.test_api import write
from walletcards.cashier.models import TillRequest
from walletcards.db import Database
from walletcards.loyalty.models import LedgerEntry, Order

ENDPOINTS = ("scan", "earn", "redeem")


def good_body(path: str, code: str) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "scan": {"code": code},
        "earn": {"code": code, "amount": "12.50", "reference": "R-9"},
        "redeem": {"code": code, "points": 10, "reference": "R-9"},
    }
    return bodies[path]


def post_raw(client: FlaskClient, path: str, raw: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        f"/api/v1/cashier/{path}",
        data=raw,
        content_type="application/json",
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


def written(database: Database) -> tuple[int, int, int]:
    with database.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (LedgerEntry, Order, TillRequest)
        )


def refused(response: Any, *statuses: int) -> str:
    assert response.status_code in statuses, (response.status_code, response.json)
    error = response.json["error"]
    assert error["code"] and error["message"]
    code: str = error["code"]
    return code


@pytest.fixture
def before(card_code: str, database: Database) -> tuple[int, int, int]:
    return written(database)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unauthenticated_calls_are_refused(
    client: FlaskClient, card_code: str, path: str, before: tuple[int, int, int], database: Database
) -> None:
    for headers in ({}, {"Authorization": "Bearer wct_not_a_token"}, {"Authorization": "Basic x"}):
        response = write(client, path, good_body(path, card_code), headers)
        assert refused(response, 401) == "unauthorized"
    assert written(database) == before


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "raw",
    [
        b"{nope",
        b"[]",
        b'"code"',
        b"\xff\xfe",
        b"[" * 100_000,
        b'{"code": ' + b"1" * 5000 + b"}",  # more digits than Python converts to an int
    ],
)
def test_malformed_bodies_are_refused(
    client: FlaskClient,
    cashier: dict[str, str],
    path: str,
    raw: bytes,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    assert refused(post_raw(client, path, raw, cashier), 400) == "malformed_json"
    assert written(database) == before


@pytest.mark.parametrize("path", ENDPOINTS)
def test_oversized_input_is_refused(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    path: str,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    huge = post_raw(client, path, b'{"code": "' + b"1" * (1024 * 1024) + b'"}', cashier)
    assert refused(huge, 413)
    long_code = write(client, path, {**good_body(path, card_code), "code": "1" * 201}, cashier)
    assert refused(long_code, 422) == "invalid_code"
    if path != "scan":
        long_reference = write(
            client, path, {**good_body(path, card_code), "reference": "R" * 101}, cashier
        )
        assert refused(long_reference, 422) == "invalid_reference"
    assert written(database) == before


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("field", ["code", "reference", "note"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_nul_bytes_and_lone_surrogates_in_any_string_are_refused(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    path: str,
    field: str,
    bad: str,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    body = good_body(path, card_code)
    body[field] = (body.get(field) or "x") + bad
    assert refused(write(client, path, body, cashier), 400, 422)
    nested = {**good_body(path, card_code), "extra": [{f"k{bad}": 1}]}
    assert refused(write(client, path, nested, cashier), 400, 422)
    assert written(database) == before


@pytest.mark.parametrize("path", ENDPOINTS)
def test_non_ascii_codes_are_an_unknown_or_forged_card(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    path: str,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    number, tag = card_code.split("-")
    arabic = "".join(chr(0x0660 + int(d)) for d in number)  # Arabic-Indic digits
    totp_arabic = "T" + "".join(chr(0x0661 + d) for d in range(8))
    for code in (
        f"{number}-{tag[:-1]}É",
        f"{number}-{totp_arabic}",
        arabic,
        f"{arabic}-{tag}",
        "é",
    ):
        response = write(client, path, {**good_body(path, card_code), "code": code}, cashier)
        assert refused(response, 404, 422) in ("unknown_card", "forged_code", "invalid_code")
    assert written(database) == before


@pytest.mark.parametrize(
    "amount",
    [
        "1e17",
        "9.99e999999",
        "-5",
        "-0.01",
        "0",
        "NaN",
        "sNaN",
        "Infinity",
        str(2**63),
        "1" * 5000,
        "12.505",
        "12.5.1",
        "0x10",
        "12,50",
        "",
        12.5,
        1,
        None,
        True,
        ["1"],
    ],
)
def test_amounts_out_of_bounds_are_refused(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    amount: Any,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    response = write(client, "earn", {"code": card_code, "amount": amount}, cashier)
    assert refused(response, 422) == "invalid_amount"
    assert written(database) == before


@pytest.mark.parametrize(
    "points", [2**63, 2**64, 10**30, -1, 0, 1.5, 10.0, "10", True, None, [10], {"n": 1}]
)
def test_points_out_of_bounds_are_refused(
    client: FlaskClient,
    manager: dict[str, str],
    card_code: str,
    points: Any,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    response = write(client, "redeem", {"code": card_code, "points": points}, manager)
    assert refused(response, 422) == "invalid_points"
    assert written(database) == before


def test_special_floats_are_refused(
    client: FlaskClient, manager: dict[str, str], card_code: str, before: tuple[int, int, int]
) -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        raw = b'{"code": "' + card_code.encode() + b'", "points": ' + literal + b"}"
        assert refused(post_raw(client, "redeem", raw, manager), 422) == "invalid_points"
        raw = b'{"code": "' + card_code.encode() + b'", "amount": ' + literal + b"}"
        assert refused(post_raw(client, "earn", raw, manager), 422) == "invalid_amount"


@pytest.mark.parametrize("path", ["earn", "redeem"])
@pytest.mark.parametrize("key", ["k" * 129, "k" * 255, "tap\t1", "tap\x001", "tap-é", " "])
def test_idempotency_keys_the_ledger_cannot_hold_are_refused(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    path: str,
    key: str,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    response = client.post(
        f"/api/v1/cashier/{path}",
        json=good_body(path, card_code),
        headers={**cashier, "Idempotency-Key": key},
    )
    assert refused(response, 400) in ("invalid_idempotency_key", "idempotency_key_required")
    assert written(database) == before


@pytest.mark.parametrize("path", ["earn", "redeem"])
def test_the_longest_idempotency_key_works(
    client: FlaskClient, cashier: dict[str, str], card_code: str, path: str
) -> None:
    key = "K" * 128
    first = write(client, path, good_body(path, card_code), cashier, key=key)
    again = write(client, path, good_body(path, card_code), cashier, key=key)
    assert first.status_code == again.status_code == 200, first.json
    assert first.json == again.json


@pytest.mark.parametrize("path", ["earn", "redeem"])
def test_a_replay_gets_the_first_answer_and_another_body_under_its_key_is_a_conflict(
    client: FlaskClient, cashier: dict[str, str], card_code: str, path: str, database: Database
) -> None:
    body = good_body(path, card_code)
    first = write(client, path, body, cashier, key="replay-1")
    after_first = written(database)
    replay = write(client, path, body, cashier, key="replay-1")
    assert replay.status_code == first.status_code == 200 and replay.json == first.json
    changed = {**body, "reference": "R-10"}
    assert refused(write(client, path, changed, cashier, key="replay-1"), 409) == (
        "idempotency_conflict"
    )
    assert written(database) == after_first


def test_a_scan_writes_nothing_and_answers_the_same_twice(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    before: tuple[int, int, int],
    database: Database,
) -> None:
    answers = [
        client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=cashier)
        for _ in range(2)
    ]
    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].json == answers[1].json
    assert written(database) == before


def test_a_duplicate_receipt_is_refused_and_writes_nothing(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    assert write(client, "earn", good_body("earn", card_code), cashier).status_code == 200
    after_first = written(database)
    duplicate = write(client, "earn", good_body("earn", card_code), cashier)
    assert refused(duplicate, 409) == "duplicate_receipt"
    assert written(database) == after_first
