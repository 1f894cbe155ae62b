"""Every read that shows a balance shows it settled at that moment — expired points gone, ended
holds spendable — even before a write or the scheduled job has settled the card."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.passes import paid_order, token_of
from tests.kit.web import json_of
from tests.kit.webhooks import post_orders
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card

SETTLED = {"available": 250, "pending": 0}  # the 300 welcome points expired on day 44


def test_every_read_shows_the_settled_balance(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    cashier: dict[str, str],
    manager: dict[str, str],
    card_code: str,
) -> None:
    clock.advance(timedelta(days=30))  # day 45: no job has run since the holds ended
    with database.transaction() as session:
        stored = session.execute(select(Card.available, Card.member_number)).one()
    assert stored[0] == 550  # the card row still counts the expired welcome points
    scan = client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=cashier)
    assert scan.status_code == 200 and json_of(scan)["balance"] == SETTLED  # was: 550
    first = paid_order(client, clock, "A-1")  # a repeated delivery: the answer it got then
    assert first["status"] == "duplicate" and first["balance"] == {"available": 0, "pending": 550}
    body = {  # the same order in another delivery (another event id): answered as it is now
        "id": "evt-A-1-again",
        "type": "order.paid",
        "order": {
            "id": "A-1",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "50.00"}],
        },
        "customer": {"id": "cust-1", "email": "cust-1@example.com"},
    }
    again = json_of(post_orders(client, body, at=int(clock.now().timestamp())))
    assert again["status"] == "duplicate" and again["balance"] == SETTLED  # was: 550
    page = client.get(f"/c/{token_of(again)}").get_data(as_text=True)
    assert '<p class="balance" id="available">250</p>' in page
    found = client.get(f"/api/v1/programs/demo/customers?q={stored[1]}", headers=manager)
    assert json_of(found)["customers"][0]["balance"] == SETTLED
    card = client.get(f"/api/v1/programs/demo/cards/{stored[1]}", headers=manager)
    assert json_of(card)["balance"] == SETTLED
    with database.transaction() as session:  # the reads wrote nothing
        assert session.execute(select(Card.available)).scalar_one() == 550
