"""Finding the customer a shop event names: by id, then email, then phone digits."""

from __future__ import annotations

from typing import Any

from tests.kit.programs import MakeCard
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.customers import CustomerDetails, find_or_create_customer
from walletcards.loyalty.models import Program


def find(
    database: Database, program: Program, clock: FixedClock, **details: Any
) -> tuple[int, bool]:
    with database.transaction() as session:
        customer, created = find_or_create_customer(
            session, program, CustomerDetails(**details), clock.now()
        )
        return customer.id, created


def test_a_phone_finds_the_customer_whatever_its_formatting(
    database: Database, program: Program, clock: FixedClock, make_card: MakeCard
) -> None:
    card = make_card(program, phone="+1 (613) 555-0123", name="Ann")
    found, created = find(
        database, program, clock, external_id="shopify:s:customer:1", phone="16135550123"
    )
    assert (found, created) == (card.customer_id, False)
    # and the customer now carries the shop's id, so the next order finds them by it
    assert find(database, program, clock, external_id="shopify:s:customer:1") == (found, False)


def test_a_shared_phone_never_merges_people_with_other_emails_or_shop_ids(
    database: Database, program: Program, clock: FixedClock, make_card: MakeCard
) -> None:
    ann = make_card(program, phone="+16135550123", email="ann@example.com")
    bob = make_card(program, phone="+79001234567", external_id="orders:customer:bob")
    _, other_email = find(
        database, program, clock, email="tom@example.com", phone="+1 613 555 0123"
    )
    _, other_id = find(
        database, program, clock, external_id="orders:customer:tim", phone="79001234567"
    )
    assert other_email and other_id
    same, created = find(database, program, clock, email="ann@example.com", phone="0")
    assert (same, created) == (ann.customer_id, False) and bob.customer_id != same
