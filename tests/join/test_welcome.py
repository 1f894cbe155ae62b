"""``[welcome] on = "join"``: paid once per person, after confirmation, whatever follows."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.join.pages import JOIN, link_in, send_emails, sign_up
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import ORDERS_SECRET, post_orders
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, LedgerEntry
from walletcards.loyalty.verify import verify
from walletcards.settings import Settings


def welcome_points(database: Database) -> int:
    with database.transaction() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.cause == "welcome"
            )
        )
    return int(total or 0)


def test_the_join_welcome_is_paid_once_across_confirmations_sign_ups_and_a_first_order(
    client: FlaskClient,
    make_program: MakeProgram,
    database: Database,
    settings: Settings,
    clock: FixedClock,
) -> None:
    make_program(
        join={**JOIN, "required": ["email", "phone"]},
        welcome={"points": 300, "on": "join"},
        webhooks={"orders_secret": ORDERS_SECRET},
    )
    assert sign_up(client, phone="+44 7911 123456").status_code == 200
    assert welcome_points(database) == 0  # held: nothing before confirmation
    (email,) = send_emails(database, settings, clock)
    link = link_in(email)
    assert client.get(link).status_code == 303
    assert client.get(link).status_code == 303  # opened twice
    assert welcome_points(database) == 300
    # the same person with another email but the same phone: their card, no second welcome
    again = sign_up(client, email="ann.lee@example.org", phone="+447911123456", address="10.1.1.1")
    assert again.status_code == 200
    # their first paid order through the signed-JSON webhook pays no first-order welcome
    order = {
        "id": "evt-1",
        "type": "order.paid",
        "order": {
            "id": "A-1",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "20.00", "sku": "BEANS"}],
        },
        "customer": {"email": "ann@example.com", "name": "Ann Lee"},
    }
    paid = post_orders(client, order, at=int(clock.now().timestamp()))
    assert paid.status_code == 200, paid.json
    assert welcome_points(database) == 300
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        card = session.execute(select(Card)).scalar_one()
        assert card.available == 300 and card.pending == 100  # the welcome + 5/$ held
        assert verify(session) == []


def test_without_confirmation_the_join_welcome_is_paid_on_joining(
    client: FlaskClient, make_program: MakeProgram, database: Database
) -> None:
    make_program(join={**JOIN, "confirm_email": False}, welcome={"points": 300, "on": "join"})
    assert sign_up(client).status_code == 303
    assert sign_up(client).status_code == 200  # again: "sent your card", nothing paid
    assert welcome_points(database) == 300


def test_joining_pays_nothing_when_the_welcome_is_for_the_first_order(
    client: FlaskClient, make_program: MakeProgram, database: Database
) -> None:
    make_program(join={**JOIN, "confirm_email": False})
    assert sign_up(client).status_code == 303
    assert welcome_points(database) == 0
