"""Enrolments racing on PostgreSQL with real threads: one person joining at two tills at
once, a retried enrolment, and a shop order arriving while the till enrols the same email."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.cashier.test_concurrency import Answer, _answers, _post
from tests.kit.staff import make_staff
from tests.kit.webhooks import post_orders
from tests.loyalty.test_concurrency import race
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, Program

pytestmark = pytest.mark.postgres


def _customers(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        people = session.execute(select(func.count()).select_from(Customer)).scalar_one()
        cards = session.execute(select(func.count()).select_from(Card)).scalar_one()
    return people, cards


def test_one_person_enrolled_at_two_tills_at_once_is_one_customer(
    app: Flask, database: Database, program: Program
) -> None:
    tokens = [make_staff(database, f"till{n}@example.com", "cashier") for n in range(2)]
    bodies = [
        {"email": "ann@example.com", "name": "Ann"},
        {"email": "ANN@example.com", "phone": "+447911123456"},
    ]
    answers = _answers(race(2, lambda i: _post(app, "enrol", bodies[i], tokens[i], f"key-{i}")))
    assert sorted(status for status, _ in answers) == [201, 409], answers
    made = next(answer for status, answer in answers if status == 201)
    found = next(answer for status, answer in answers if status == 409)
    assert found["error"]["code"] == "already_member"
    assert found["card"]["customer"]["member_number"] == made["customer"]["member_number"]
    assert _customers(database) == (1, 1)


def test_ten_concurrent_retries_of_one_enrolment_all_get_the_first_answer(
    app: Flask, database: Database, program: Program
) -> None:
    token = make_staff(database, "till@example.com", "cashier")
    body = {"phone": "+7 900 123-45-67", "marketing_consent": True}
    answers = _answers(race(10, lambda _: _post(app, "enrol", body, token, "tap-retry")))
    assert {status for status, _ in answers} == {201}, answers
    assert all(answer == answers[0][1] for _, answer in answers)
    assert _customers(database) == (1, 1)


def test_a_shop_order_and_a_till_enrolment_of_one_email_at_once_make_one_card(
    app: Flask, database: Database, clock: FixedClock, program: Program
) -> None:
    token = make_staff(database, "till@example.com", "cashier")
    order = {
        "id": "evt-race",
        "type": "order.paid",
        "order": {
            "id": "RACE-1",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "30.00"}],
        },
        "customer": {"email": "ann@example.com", "name": "Ann Lee"},
    }

    def act(index: int) -> Answer | Any:
        if index == 0:
            return _post(app, "enrol", {"email": "ann@example.com"}, token, "join")
        response = post_orders(app.test_client(), order, at=int(clock.now().timestamp()))
        return response.status_code, response.json

    enrolled, ordered = _answers(race(2, act))
    assert ordered[0] == 200 and enrolled[0] in (201, 409), (enrolled, ordered)
    assert _customers(database) == (1, 1)
