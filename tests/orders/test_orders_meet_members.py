"""Orders meet members: whoever came first, a till member and the shop's paid orders with the
same email or phone share one customer and one card, and the points land on it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.inbox import Deliver
from tests.kit.programs import MakeProgram
from tests.kit.web import json_of
from tests.kit.webhooks import SHOP, fixture, post_orders
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.verify import verify

SHOPIFY = fixture("shopify_order_paid.json")  # ann.lee@example.com, +16135550123
WOO = fixture("woocommerce_order_processing.json")  # John.Doe@Example.com, (555) 555-5555


def enrol(client: FlaskClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        "/api/v1/cashier/enrol",
        json=body,
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


def joined(client: FlaskClient, headers: dict[str, str], **body: Any) -> str:
    """A member made at the till; their card page's address."""
    response = enrol(client, headers, **body)
    assert response.status_code == 201, response.json
    url: str = json_of(response)["card"]["url"]
    return url


def signed_json_order(clock: FixedClock, order_id: str, **customer: str) -> dict[str, Any]:
    return {
        "id": f"evt-{order_id}",
        "type": "order.paid",
        "order": {
            "id": order_id,
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "40.00"}],
        },
        "customer": customer,
    }


def the_one_card(database: Database) -> tuple[Customer, Card]:
    with database.transaction() as session:
        customer = session.execute(select(Customer)).scalar_one()  # one customer, not two
        card = session.execute(select(Card)).scalar_one()
        assert verify(session) == []
    return customer, card


def test_a_till_member_s_shopify_order_lands_on_their_card(
    client: FlaskClient, cashier: dict[str, str], database: Database, deliver: Deliver
) -> None:
    url = joined(client, cashier, email="Ann.Lee@example.com", name="Ann")
    answer = deliver.shopify("orders/paid", SHOPIFY)
    assert answer["status"] == "applied" and answer["card"]["url"] == url
    assert answer["balance"]["pending"] > 0
    customer, card = the_one_card(database)
    assert customer.external_id == f"shopify:{SHOP}:customer:7351204895634215987"
    assert customer.joined_via == "till" and card.pending == answer["balance"]["pending"]


def test_a_till_member_s_woocommerce_order_lands_on_their_card(
    client: FlaskClient, cashier: dict[str, str], database: Database, deliver: Deliver
) -> None:
    url = joined(client, cashier, email="john.doe@example.com")
    answer = deliver.woo(WOO)
    assert answer["status"] == "applied" and answer["card"]["url"] == url
    _, card = the_one_card(database)
    assert card.pending == answer["balance"]["pending"] > 0


def test_a_till_member_s_signed_json_order_lands_on_their_card(
    client: FlaskClient, cashier: dict[str, str], database: Database, clock: FixedClock
) -> None:
    url = joined(client, cashier, email="ann@example.com")
    body = signed_json_order(clock, "J-1", id="c-9", email="ANN@example.com", name="Ann Lee")
    answer = json_of(post_orders(client, body, at=int(clock.now().timestamp())))
    assert answer["status"] == "applied" and answer["card"]["url"] == url
    customer, card = the_one_card(database)
    assert card.pending == answer["balance"]["pending"] > 0
    assert customer.name == "Ann Lee"  # the shop's details fill in what the till left out


def test_a_member_who_gave_only_a_phone_gets_their_order_and_their_email_filled_in(
    client: FlaskClient,
    cashier: dict[str, str],
    database: Database,
    clock: FixedClock,
    deliver: Deliver,
) -> None:
    url = joined(client, cashier, phone="+1 613 555 0123")
    body = signed_json_order(clock, "J-2", email="ann@example.com", phone="+1 (613) 555-0123")
    answer = json_of(post_orders(client, body, at=int(clock.now().timestamp())))
    assert answer["status"] == "applied" and answer["card"]["url"] == url
    customer, card = the_one_card(database)
    assert customer.email == "ann@example.com" and card.pending > 0
    # and the shop's next order, by that email alone, finds the same card
    shopify = {**SHOPIFY, "customer": {**SHOPIFY["customer"], "email": "ann@example.com"}}
    assert deliver.shopify("orders/paid", shopify)["card"]["url"] == url
    the_one_card(database)


def test_a_shopify_order_with_the_members_phone_lands_on_their_card(
    client: FlaskClient, cashier: dict[str, str], database: Database, deliver: Deliver
) -> None:
    url = joined(client, cashier, phone="+16135550123")
    answer = deliver.shopify("orders/paid", SHOPIFY)
    assert answer["card"]["url"] == url
    customer, _ = the_one_card(database)
    assert customer.email == "ann.lee@example.com"


def test_a_shopper_who_ordered_first_is_already_a_member_at_the_till(
    client: FlaskClient, cashier: dict[str, str], database: Database, deliver: Deliver
) -> None:
    ordered = deliver.shopify("orders/paid", SHOPIFY)
    _, card = the_one_card(database)
    for contact in ({"email": "ann.lee@example.com"}, {"phone": "+1 613 555 0123"}):
        refused = enrol(client, cashier, **contact, marketing_consent=True)
        assert refused.status_code == 409, refused.json
        found = json_of(refused)["card"]
        assert found["customer"]["member_number"] == card.member_number
        assert found["balance"] == ordered["balance"]
    customer, _ = the_one_card(database)
    assert customer.joined_via == "order" and not customer.marketing_consent


def test_a_phone_the_shop_got_in_national_form_finds_the_member(
    client: FlaskClient,
    cashier: dict[str, str],
    database: Database,
    make_program: MakeProgram,
    program: Program,
    deliver: Deliver,
) -> None:
    # WooCommerce's billing phone is whatever the shopper typed: "(201) 555-0123" in the US;
    # [join] phone_region reads it, as it reads the till's numbers typed without "+"
    make_program(webhooks=program.config["webhooks"], join={"phone_region": "US"})
    url = joined(client, cashier, phone="+1 201 555 0123")
    billing = {**WOO["billing"], "email": "jo@example.com", "phone": "(201) 555-0123"}
    answer = deliver.woo({**WOO, "billing": billing})
    assert answer["card"]["url"] == url
    customer, _ = the_one_card(database)
    assert (customer.email, customer.phone) == ("jo@example.com", "+12015550123")
