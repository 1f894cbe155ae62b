"""The money value of points in the till's answers (and the owner's card view, same shape)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.cashier.test_api import write
from tests.kit.programs import MakeProgram
from tests.kit.web import json_of
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.openapi import document


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def test_scan_earn_and_redeem_answer_what_the_points_are_worth(
    client: FlaskClient, cashier: dict[str, str], manager: dict[str, str], card_code: str
) -> None:
    scanned = client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=cashier)
    assert json_of(scanned)["balance"]["available"] == 550
    assert json_of(scanned)["value"] == usd("5.50")  # point_value = "0.01"
    redeemed = write(client, "redeem", {"code": card_code, "points": 201}, cashier)
    assert redeemed.status_code == 200, redeemed.json
    assert redeemed.json["redeemed"] == 201 and redeemed.json["redeemed_value"] == usd("2.01")
    assert redeemed.json["value"] == usd("3.49")
    earned = write(client, "earn", {"code": card_code, "amount": "10.00"}, cashier)
    assert earned.json["value"] == usd("3.49")  # what it earns is pending: not spendable yet
    member = card_code.split("-")[0]
    view = client.get(f"/api/v1/programs/demo/cards/{member}", headers=manager)
    assert view.status_code == 200 and json_of(view)["value"] == usd("3.49")


def test_every_key_of_the_till_answer_is_documented(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    schemas = document()["components"]["schemas"]
    documented = set(schemas["TillAnswer"]["properties"])
    redeemed = write(client, "redeem", {"code": card_code, "points": 1}, cashier).json
    assert set(redeemed) <= documented and set(schemas["TillAnswer"]["required"]) <= set(redeemed)
    assert set(redeemed["value"]) == set(schemas["Money"]["properties"])
    operation = document()["paths"]["/api/v1/cashier/redeem"]["post"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/TillAnswer"}


def test_without_a_point_value_the_answers_show_no_value(
    make_program: MakeProgram,
    apple_table: dict[str, str],
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
) -> None:
    # the demo programme applied again without its [redemption] table (no point_value)
    make_program(apple=apple_table, webhooks={"orders_secret": ORDERS_SECRET}, redemption=None)
    scanned = client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=cashier)
    assert scanned.status_code == 200 and json_of(scanned)["value"] is None
    redeemed = write(client, "redeem", {"code": card_code, "points": 100}, cashier)
    assert redeemed.json["redeemed_value"] is None and redeemed.json["value"] is None
