"""The till's tier discount in a currency without decimals (JPY)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.codes import card_code as make_code
from walletcards.loyalty.models import Program


@pytest.fixture
def program(make_program: MakeProgram, apple_table: dict[str, str]) -> Program:
    return make_program(
        currency="JPY",
        earning={"points_per_unit": "0.05"},
        redemption={"point_value": "1"},
        apple=apple_table,
        webhooks={"orders_secret": ORDERS_SECRET},
        tiers={
            "qualify_by": "paid_orders",
            "levels": [
                {"code": "bronze", "name": "Bronze", "threshold": 1, "discount_percent": "10"},
                {"code": "gold", "name": "Gold", "threshold": 4, "discount_percent": "15"},
            ],
        },
    )


def test_yen_are_quoted_and_discounted_in_whole_yen(
    client: FlaskClient, cashier: dict[str, str], program: Program, make_card: MakeCard
) -> None:
    card = make_card(program, email="yen@example.com")
    code = make_code("test-secret-key-0123456789", "demo", card.member_number)
    first: Any = client.post(
        "/api/v1/cashier/earn",
        json={"code": code, "amount": "1000"},
        headers={**cashier, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert first.status_code == 200 and first.json["tier"] == "Bronze"
    got: Any = client.post(
        "/api/v1/cashier/quote", json={"code": code, "amount": "1235"}, headers=cashier
    ).json
    assert got["discount"] == {"percent": "10", "amount": "124"}  # ¥123.5 rounds half up
    assert (got["to_pay"], got["currency"]) == ("1111", "JPY")
    assert got["points"] == 55  # 0.05 x ¥1,111, rounded down
    refused: Any = client.post(
        "/api/v1/cashier/quote", json={"code": code, "amount": "12.5"}, headers=cashier
    )
    assert refused.status_code == 422 and refused.json["error"]["code"] == "invalid_amount"
