"""Tills racing each other on PostgreSQL with real threads: two redemptions from one card,
retries of one write, one receipt at two tills, one rotating code at five."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.kit.passes import paid_order
from tests.kit.staff import make_staff
from tests.loyalty.test_concurrency import race
from walletcards.cashier.models import TillRequest
from walletcards.clock import FixedClock
from walletcards.codes import card_code as make_code
from walletcards.codes import totp, totp_key
from walletcards.db import Database
from walletcards.loyalty.models import Card, LedgerEntry, Order
from walletcards.loyalty.verify import verify

pytestmark = pytest.mark.postgres
Answer = tuple[int, dict[str, Any]]


def test_two_tills_redeem_at_once_never_negative_and_both_answers_true(
    app: Flask,
    database: Database,
    card_code: str,
) -> None:
    tills = [make_staff(database, f"till{n}@example.com", "cashier") for n in range(2)]

    def redeem(index: int) -> tuple[int, dict[str, object]]:
        response = app.test_client().post(
            "/api/v1/cashier/redeem",
            json={"code": card_code, "points": 400},
            headers={
                "Authorization": f"Bearer {tills[index]}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        assert response.json is not None
        return response.status_code, response.json

    results = race(2, redeem)
    statuses = sorted(r[0] for r in results)  # type: ignore[index]
    assert statuses == [200, 422]
    ok = next(r for r in results if r[0] == 200)  # type: ignore[index]
    assert ok[1]["balance"]["available"] == 150  # type: ignore[index]
    refused = next(r for r in results if r[0] == 422)  # type: ignore[index]
    assert "only 150 points" in refused[1]["error"]["message"]  # type: ignore[index]
    with database.transaction() as session:
        assert session.execute(select(Card.available)).scalar_one() == 150
        assert verify(session) == []


def _post(app: Flask, path: str, body: dict[str, Any], token: str, key: str) -> Answer:
    response = app.test_client().post(
        f"/api/v1/cashier/{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    assert response.json is not None
    return response.status_code, response.json


def _answers(results: list[Answer | BaseException]) -> list[Answer]:
    for result in results:
        assert not isinstance(result, BaseException), result
    return results  # type: ignore[return-value]


def _count(database: Database, model: type[Any]) -> int:
    with database.transaction() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("reference", [None, "R-42"])
def test_ten_concurrent_retries_of_one_earn_all_get_the_first_answer(
    app: Flask, database: Database, card_code: str, reference: str | None
) -> None:
    token = make_staff(database, "till@example.com", "cashier")
    body: dict[str, Any] = {"code": card_code, "amount": "12.50"}
    if reference:
        body["reference"] = reference
    orders, entries = _count(database, Order), _count(database, LedgerEntry)
    answers = _answers(race(10, lambda _: _post(app, "earn", body, token, "tap-retry")))
    assert {status for status, _ in answers} == {200}, answers
    assert all(answer == answers[0][1] for _, answer in answers)
    assert answers[0][1]["earned"] == 87  # 2nd order: Silver, 7 points per dollar
    assert _count(database, Order) == orders + 1
    assert _count(database, LedgerEntry) == entries + 1
    assert _count(database, TillRequest) == 1


def test_ten_concurrent_retries_of_one_redemption_all_get_the_first_answer(
    app: Flask, database: Database, card_code: str
) -> None:
    token = make_staff(database, "till@example.com", "cashier")
    body = {"code": card_code, "points": 100}
    answers = _answers(race(10, lambda _: _post(app, "redeem", body, token, "tap-retry")))
    assert {status for status, _ in answers} == {200}, answers
    assert all(answer == answers[0][1] for _, answer in answers)
    with database.transaction() as session:
        assert session.execute(select(Card.available)).scalar_one() == 450
        assert verify(session) == []


def test_one_receipt_entered_at_two_tills_at_once_earns_once(
    app: Flask, client: FlaskClient, clock: FixedClock, database: Database, card_code: str
) -> None:
    paid_order(client, clock, "B-1", "20.00", customer="cust-2")
    with database.transaction() as session:
        numbers = session.execute(select(Card.member_number).order_by(Card.id)).scalars().all()
    codes = [make_code("test-secret-key-0123456789", "demo", number) for number in numbers]
    tokens = [
        make_staff(database, "till@example.com", "cashier"),
        make_staff(database, "boss@example.com", "manager"),
    ]

    def earn(index: int) -> Answer:
        body = {"code": codes[index], "amount": "10.00", "reference": "SAME-RECEIPT"}
        return _post(app, "earn", body, tokens[index], str(uuid.uuid4()))

    answers = _answers(race(2, earn))
    assert sorted(status for status, _ in answers) == [200, 409], answers
    refused = next(answer for status, answer in answers if status == 409)
    assert refused["error"]["code"] == "duplicate_receipt"
    with database.transaction() as session:
        till = select(func.count()).select_from(Order).where(Order.source == "till:demo")
        assert session.execute(till).scalar_one() == 1


def test_one_rotating_code_redeems_once_when_tills_race(
    app: Flask, database: Database, card_code: str, clock: FixedClock
) -> None:
    tokens = [make_staff(database, f"till{n}@example.com", "cashier") for n in range(5)]
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
    step = int(clock.now().timestamp()) // 30
    code = f"{card.member_number}-T{totp(totp_key(card.qr_secret), step)}"

    def redeem(index: int) -> Answer:
        return _post(app, "redeem", {"code": code, "points": 10}, tokens[index], str(uuid.uuid4()))

    answers = _answers(race(5, redeem))
    assert sorted(status for status, _ in answers) == [200, 409, 409, 409, 409], answers
    assert {a["error"]["code"] for s, a in answers if s == 409} == {"code_used"}
    with database.transaction() as session:
        assert session.execute(select(Card.available)).scalar_one() == 540
        assert verify(session) == []
