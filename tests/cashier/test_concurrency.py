"""Two tills redeeming from one card at the same moment, on PostgreSQL with real threads."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from tests.cashier.conftest import make_staff
from tests.cashier.test_api import card_code  # noqa: F401  (fixture)
from tests.loyalty.test_concurrency import race
from walletcards.db import Database
from walletcards.loyalty.models import Card
from walletcards.loyalty.verify import verify

pytestmark = pytest.mark.postgres


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
