"""The till's tier discount: POST /api/v1/cashier/quote and earn recording the discount given."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.cashier.models import TillDiscount, TillRequest
from walletcards.codes import card_code as make_code
from walletcards.db import Database
from walletcards.loyalty.models import LedgerEntry, Order, Program
from walletcards.loyalty.verify import verify

TIERS = {
    "qualify_by": "paid_orders",
    "discount_exclude_brands": ["Nivea"],
    "discount_exclude_skus": ["GIFT-25"],
    "levels": [
        {"code": "bronze", "name": "Bronze", "threshold": 1, "discount_percent": "10"},
        {"code": "silver", "name": "Silver", "threshold": 2, "points_per_unit": "7"},
        {"code": "gold", "name": "Gold", "threshold": 4, "discount_percent": "12.5"},
    ],
}


@pytest.fixture
def program(make_program: MakeProgram, apple_table: dict[str, str]) -> Program:
    """The till's programme, Bronze giving 10 % off (the card_code card is Bronze)."""
    return make_program(apple=apple_table, webhooks={"orders_secret": ORDERS_SECRET}, tiers=TIERS)


def quote(client: FlaskClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/cashier/quote", json=body, headers=headers)


def earn(client: FlaskClient, headers: dict[str, str], **body: Any) -> Any:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    return client.post("/api/v1/cashier/earn", json=body, headers={**headers, **key})


def test_a_quote_takes_the_tiers_discount_off_and_earns_on_what_is_paid(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    answer = quote(client, cashier, code=card_code, amount="12.35")
    assert answer.status_code == 200, answer.json
    got = answer.json
    assert got["tier"] == "Bronze" and got["currency"] == "USD"
    assert got["discount"] == {"percent": "10", "amount": "1.24"}  # 1.235 rounds half up
    assert (got["amount"], got["discountable"], got["to_pay"]) == ("12.35", "12.35", "11.11")
    # this 2nd order reaches Silver (7 points per dollar): 7 x 11.11 = 77.77 -> 77
    assert got["points"] == 77
    assert got["balance"] == {"available": 550, "pending": 0}


def test_excluded_brands_and_skus_are_not_discounted(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    lines = [
        {"sku": "SHAMPOO", "brand": "Own", "amount": "20.00"},
        {"sku": "CREAM", "brand": "NIVEA", "product_type": "Face", "amount": "30.00"},
        {"sku": "gift-25", "amount": "25.00"},
    ]
    got = quote(client, cashier, code=card_code, amount="75.00", lines=lines).json
    assert got["discountable"] == "20.00"
    assert got["discount"] == {"percent": "10", "amount": "2.00"} and got["to_pay"] == "73.00"
    only_excluded = quote(client, cashier, code=card_code, amount="25", lines=lines[2:]).json
    assert only_excluded["discount"] == {"percent": "10", "amount": "0.00"}
    assert only_excluded["to_pay"] == "25.00"


def test_earn_records_the_discount_given_and_earns_on_the_price_paid(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    quoted = quote(client, cashier, code=card_code, amount="12.35").json
    done = earn(
        client,
        cashier,
        code=card_code,
        amount=quoted["to_pay"],
        discount=quoted["discount"],
        reference="R-7",
    )
    assert done.status_code == 200, done.json
    assert done.json["earned"] == quoted["points"] == 77
    assert done.json["discount"] == {"percent": "10", "amount": "1.24"}
    assert done.json["tier"] == "Silver"
    with database.transaction() as session:
        order = session.execute(select(Order).where(Order.source == "till:demo")).scalar_one()
        assert order.total_minor == 1111  # what the customer paid
        given = session.execute(select(TillDiscount)).scalar_one()
        assert (given.order_id, given.tier_code, given.percent) == (order.id, "bronze", "10")
        assert (given.discount_minor, given.price_minor) == (124, 1235)
        assert verify(session) == []
    plain = earn(client, cashier, code=card_code, amount="5.00")  # no discount: as before
    assert plain.status_code == 200 and plain.json["discount"] is None


@pytest.mark.parametrize(
    ("discount", "code"),
    [
        ("1.25", "discount_too_large"),  # 10 % of 12.35 is 1.24 at most
        ({"percent": "12.5", "amount": "1.00"}, "discount_too_large"),  # not the card's tier
        ("-1", "invalid_discount"),
        ("0", "invalid_discount"),
        ("1.234", "invalid_discount"),
        ("1e3", "invalid_discount"),
        (1.24, "invalid_discount"),
        ({"amount": "1.24", "extra": 1}, "invalid_discount"),
        ({"percent": "1" * 50, "amount": "1.24"}, "invalid_discount"),
    ],
)
def test_a_discount_the_tier_does_not_give_is_refused_and_nothing_is_written(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    database: Database,
    discount: Any,
    code: str,
) -> None:
    refused = earn(client, cashier, code=card_code, amount="11.10", discount=discount)
    assert refused.status_code == 422 and refused.json["error"]["code"] == code, refused.json
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TillDiscount)) == 0
        assert session.scalar(select(func.count()).where(Order.source == "till:demo")) == 0


def test_a_card_without_a_discounting_tier_is_quoted_the_full_price_and_earn_refuses_one(
    client: FlaskClient,
    cashier: dict[str, str],
    program: Program,
    make_card: MakeCard,
) -> None:
    card = make_card(program, email="new@example.com")  # no order yet: no tier
    code = make_code("test-secret-key-0123456789", "demo", card.member_number)
    got = quote(client, cashier, code=code, amount="10.00").json
    assert got["discount"] is None and got["to_pay"] == "10.00" and got["tier"] is None
    assert got["points"] == 50  # the 1st order reaches Bronze: the base 5 points per dollar
    refused = earn(client, cashier, code=code, amount="9.00", discount="1.00")
    assert refused.status_code == 422 and refused.json["error"]["code"] == "no_tier_discount"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": "10.00"}, 422, "invalid_code"),
        ({"code": "x" * 201, "amount": "10.00"}, 422, "invalid_code"),
        ({"amount": "-1"}, 422, "invalid_amount"),
        ({"amount": "1e999"}, 422, "invalid_amount"),
        ({"amount": "9" * 13}, 422, "invalid_amount"),
        ({"amount": 2**63}, 422, "invalid_amount"),
        ({"amount": "10.00", "lines": "all"}, 422, "invalid_lines"),
        ({"amount": "10.00", "lines": []}, 422, "invalid_lines"),
        ({"amount": "10.00", "lines": [{"amount": "10.00"}] * 201}, 422, "invalid_lines"),
        ({"amount": "10.00", "lines": [{"amount": "9.00"}]}, 422, "invalid_lines"),
        (
            {"amount": "10.00", "lines": [{"amount": "10.00", "sku": "x" * 201}]},
            422,
            "invalid_lines",
        ),
        ({"amount": "10.00", "lines": [{"amount": "10.00", "sku": 5}]}, 422, "invalid_lines"),
        (
            {"amount": "10.00", "lines": [{"amount": "10.00", "colour": "red"}]},
            422,
            "invalid_lines",
        ),
        ({"amount": "10.00", "lines": [{"amount": "-10.00"}]}, 422, "invalid_lines"),
        ({"amount": "10.00", "lines": [["10.00"]]}, 422, "invalid_lines"),
        (
            {"amount": "10.00", "lines": [{"amount": "10.00", "sku": "a\u0000"}]},
            422,
            "invalid_text",
        ),
    ],
)
def test_malformed_and_oversized_quotes_are_refused(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    body = {"code": card_code, **body} if "code" not in body and code != "invalid_code" else body
    answer = quote(client, cashier, **body)
    assert answer.status_code == status and answer.json["error"]["code"] == code, answer.json


def test_a_quote_needs_staff_and_a_genuine_card_and_writes_nothing(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    unsigned = client.post("/api/v1/cashier/quote", json={"code": card_code, "amount": "1.00"})
    assert unsigned.status_code == 401
    wrong = quote(client, {"Authorization": "Bearer nope"}, code=card_code, amount="1.00")
    assert wrong.status_code == 401
    altered = card_code[:-1] + ("B" if card_code.endswith("A") else "A")  # never the code itself
    forged = quote(client, cashier, code=altered, amount="1.00")
    assert forged.status_code in (404, 422)
    not_json = client.post(
        "/api/v1/cashier/quote", data=b"{", headers={**cashier, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    huge = client.post(
        "/api/v1/cashier/quote",
        data=b'{"code": "' + b"x" * 2_000_000 + b'"}',
        headers={**cashier, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    # the same quote twice: the same answer, and nothing recorded
    with database.transaction() as session:
        entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    first = quote(client, cashier, code=card_code, amount="12.35")
    again = quote(client, cashier, code=card_code, amount="12.35")
    assert first.status_code == again.status_code == 200 and first.json == again.json
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TillRequest)) == 0
        assert session.scalar(select(func.count()).where(Order.source == "till:demo")) == 0
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries


def test_a_replayed_earn_with_its_discount_records_it_once(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    body = {"code": card_code, "amount": "11.11", "discount": "1.24", "reference": "R-1"}
    headers = {**cashier, "Idempotency-Key": "tap-9"}
    first = client.post("/api/v1/cashier/earn", json=body, headers=headers)
    again = client.post("/api/v1/cashier/earn", json=body, headers=headers)
    assert first.status_code == again.status_code == 200 and first.json == again.json
    # the same receipt under a new key: a duplicate (the card is Silver now, no discount: the
    # receipt is named first)
    duplicate = earn(client, cashier, **{**body, "reference": "r-1 "})
    assert duplicate.status_code == 409, duplicate.json
    assert duplicate.json["error"]["code"] == "duplicate_receipt"
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TillDiscount)) == 1
