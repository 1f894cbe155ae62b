"""Reversing one entry from the owner's API: once, with a reason, never a negative balance."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.admin.test_api import BASE, call, number
from tests.cashier.test_api import write
from tests.kit.web import json_of
from walletcards.db import Database
from walletcards.loyalty.models import Card, LedgerEntry, Lot, Program


@pytest.fixture
def program(apple_program: Program) -> Program:
    """The Apple kit's programme (passes, the signed-JSON webhook)."""
    return apple_program


def entries(client: FlaskClient, member: str, manager: dict[str, str]) -> list[dict[str, Any]]:
    card = json_of(client.get(f"{BASE}/cards/{member}", headers=manager))
    found: list[dict[str, Any]] = card["entries"]
    return found


def adjust(client: FlaskClient, member: str, points: int, manager: dict[str, str]) -> int:
    body = {"points": points, "reason": "opening balance typo"}
    assert (
        call(client, "POST", f"{BASE}/cards/{member}/adjustments", body, manager).status_code == 200
    )
    return int(entries(client, member, manager)[0]["id"])


def reverse(
    client: FlaskClient, member: str, entry_id: int, headers: dict[str, str], key: str = ""
) -> Any:
    url = f"{BASE}/cards/{member}/entries/{entry_id}/reversal"
    if key:
        return client.post(
            url, json={"reason": "wrong customer"}, headers={**headers, "Idempotency-Key": key}
        )
    return call(client, "POST", url, {"reason": "wrong customer"}, headers)


def test_reversing_a_manual_credit_takes_it_back_once(
    client: FlaskClient, manager: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    credit = adjust(client, member, 1000, manager)
    first = reverse(client, member, credit, manager, key="undo-1")
    assert first.status_code == 200, first.json
    assert first.json["balance"]["available"] == 550 and first.json["entry"]["kind"] == "reversal"
    assert reverse(client, member, credit, manager, key="undo-1").json == first.json  # a retry
    again = reverse(client, member, credit, manager, key="undo-2")
    assert again.status_code == 409 and again.json["error"]["code"] == "not_reversible"
    latest = entries(client, member, manager)[0]
    assert (latest["kind"], latest["actor"], latest["memo"]) == (
        "reversal",
        "boss@example.com",
        "wrong customer",
    )
    assert latest["cause"] == f"reversal-of:{credit}"


def test_reversing_a_credit_already_spent_leaves_debt_not_a_negative_balance(
    client: FlaskClient,
    database: Database,
    manager: dict[str, str],
    cashier: dict[str, str],
    card_code: str,
) -> None:
    member = number(card_code)
    credit = adjust(client, member, 1000, manager)  # 1550 points
    assert write(client, "redeem", {"code": card_code, "points": 1200}, cashier).status_code == 200
    answer = reverse(client, member, credit, manager)
    assert answer.status_code == 200 and answer.json["balance"]["available"] == 0
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
        assert (card.available, card.pending, card.debt) == (0, 0, 650)  # 1000 - 350 left


def test_undoing_a_redemption_gives_the_points_back_no_longer_than_they_had(
    client: FlaskClient,
    database: Database,
    manager: dict[str, str],
    cashier: dict[str, str],
    card_code: str,
) -> None:
    member = number(card_code)
    assert write(client, "redeem", {"code": card_code, "points": 100}, cashier).status_code == 200
    redemption = entries(client, member, manager)[0]
    assert redemption["kind"] == "redeem"
    answer = reverse(client, member, redemption["id"], manager)
    assert answer.status_code == 200 and answer.json["balance"]["available"] == 550
    with database.transaction() as session:
        restored = session.execute(
            select(Lot).join(LedgerEntry).where(LedgerEntry.kind == "restore")
        ).scalar_one()
        welcome = session.execute(
            select(Lot).join(LedgerEntry).where(LedgerEntry.cause == "welcome")
        ).scalar_one()
        assert restored.points == 100 and restored.expires_at == welcome.expires_at


def test_order_points_and_system_entries_cannot_be_reversed_here(
    client: FlaskClient, manager: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    before = entries(client, member, manager)
    listed = {e["kind"]: e["id"] for e in before}
    for kind in ("earn", "bonus", "release"):  # the bonus is the first order's welcome
        refused = reverse(client, member, listed[kind], manager)
        assert refused.status_code == 409, (kind, refused.json)
        assert refused.json["error"]["code"] == "not_reversible"
    assert entries(client, member, manager) == before  # nothing added


def test_a_reversal_needs_a_reason_and_an_entry_of_this_card(
    client: FlaskClient, manager: dict[str, str], card_code: str
) -> None:
    member = number(card_code)
    credit = adjust(client, member, 10, manager)
    url = f"{BASE}/cards/{member}/entries/{credit}/reversal"
    for body in ({}, {"reason": " "}, {"reason": "x" * 501}, {"reason": 5}):
        bad = call(client, "POST", url, body, manager)
        assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_reason"
    for unknown in (10**9, 2**63, 10**30):
        missing = reverse(client, member, unknown, manager)
        assert missing.status_code == 404 and missing.json["error"]["code"] == "unknown_entry"
    assert (
        client.post(url, data=b"{oops", headers={**manager, "Idempotency-Key": "k"}).status_code
        == 400
    )
    assert client.post(url, json={"reason": "r"}, headers=manager).status_code == 400  # no key
