"""One receipt earns once per programme, whoever enters it; every till entry names its staff."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.cashier.test_api import write
from walletcards.db import Database
from walletcards.loyalty.models import LedgerEntry, Order
from walletcards.loyalty.verify import verify


def till_orders(database: Database) -> int:
    with database.transaction() as session:
        return session.execute(
            select(func.count()).select_from(Order).where(Order.source.like("till:%"))
        ).scalar_one()


def test_a_receipt_earns_once_whoever_enters_it(
    client: FlaskClient,
    cashier: dict[str, str],
    manager: dict[str, str],
    card_code: str,
    database: Database,
) -> None:
    first = write(
        client, "earn", {"code": card_code, "amount": "10.00", "reference": "R-1"}, cashier
    )
    assert first.status_code == 200, first.json
    for staff in (cashier, manager):
        again = write(
            client, "earn", {"code": card_code, "amount": "10.00", "reference": "R-1"}, staff
        )
        assert again.status_code == 409, again.json
        assert again.json["error"]["code"] == "duplicate_receipt"
        assert "R-1" in again.json["error"]["message"]
    assert till_orders(database) == 1
    with database.transaction() as session:
        assert verify(session) == []


def test_a_receipt_number_typed_with_other_case_or_spaces_is_the_same_receipt(
    client: FlaskClient, cashier: dict[str, str], manager: dict[str, str], card_code: str
) -> None:
    first = write(
        client, "earn", {"code": card_code, "amount": "5.00", "reference": "ab-7"}, cashier
    )
    assert first.status_code == 200
    again = write(
        client, "earn", {"code": card_code, "amount": "5.00", "reference": "  AB-7 "}, manager
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate_receipt"


def test_purchases_without_a_receipt_number_each_earn(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    for _ in range(2):
        response = write(client, "earn", {"code": card_code, "amount": "5.00"}, cashier)
        assert response.status_code == 200, response.json
    assert till_orders(database) == 2


def test_every_till_entry_records_its_staff_member(
    client: FlaskClient,
    cashier: dict[str, str],
    manager: dict[str, str],
    card_code: str,
    database: Database,
) -> None:
    assert write(client, "earn", {"code": card_code, "amount": "10.00"}, cashier).status_code == 200
    assert write(client, "earn", {"code": card_code, "amount": "20.00"}, manager).status_code == 200
    assert write(client, "redeem", {"code": card_code, "points": 5}, manager).status_code == 200
    with database.transaction() as session:
        rows = session.execute(
            select(Order.total_minor, LedgerEntry.kind, LedgerEntry.actor)
            .join(Order, Order.id == LedgerEntry.order_id, isouter=True)
            .where(LedgerEntry.kind.in_(("earn", "bonus", "redeem")))
            .where((Order.source.like("till:%")) | (LedgerEntry.kind == "redeem"))
            .order_by(LedgerEntry.id)
        ).all()
    assert [(r.total_minor, r.kind, r.actor) for r in rows] == [
        (1000, "earn", "till1@example.com"),
        (2000, "earn", "boss@example.com"),
        (None, "redeem", "boss@example.com"),
    ]
