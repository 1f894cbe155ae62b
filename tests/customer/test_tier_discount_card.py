"""The card shows the tier's discount ("Bronze · 10% off") on the card page, the Apple pass and
the Google object, in the card's language."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fakes.google import DISCOVERY
from tests.kit.passes import fields, paid_order, pass_json, token_of, unpack
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.google.objects import loyalty_object
from walletcards.google.schema import load, validate
from walletcards.loyalty.models import Card, Program


@pytest.fixture
def program(make_program: MakeProgram, apple_table: dict[str, str]) -> Program:
    return make_program(
        apple=apple_table,
        webhooks={"orders_secret": ORDERS_SECRET},
        tiers={
            "qualify_by": "paid_orders",
            "levels": [
                {
                    "code": "bronze",
                    "name": {"en": "Bronze", "ru": "Бронза"},
                    "threshold": 1,
                    "discount_percent": "7.5",
                },
                {"code": "gold", "name": "Gold", "threshold": 2, "points_per_unit": "0"},
            ],
        },
        languages=["en", "ru"],
    )


def test_the_card_page_pass_and_google_object_show_the_tier_discount(
    client: FlaskClient, clock: FixedClock, database: Database, program: Program
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    html = client.get(f"/c/{token}").get_data(as_text=True)
    assert '<p id="tier">Bronze · 7.5% off</p>' in html
    tier = fields(pass_json(unpack(client.get(f"/c/{token}/card.pkpass").get_data())))["tier"]
    assert tier["value"] == "Bronze · 7.5% off"
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
        face = card_face(session, program, card, clock.now(), "k" * 20)
        russian = card_face(session, program, card, clock.now(), "k" * 20, locale="ru")
    assert (face.tier, face.discount) == ("Bronze", "7.5% off")  # the API's tier stays the name
    assert russian.tier_line == "Бронза · скидка 7,5\xa0%"
    body = loyalty_object("3388000000012345678", program.slug, card.serial, face, "https://x/c/t")
    assert validate(load(str(DISCOVERY))["schemas"], "LoyaltyObject", body) == []
    assert body["textModulesData"][0]["body"] == "Bronze · 7.5% off"


def test_a_tier_without_a_discount_shows_its_name_only(
    client: FlaskClient, clock: FixedClock
) -> None:
    paid_order(client, clock, "A-1")
    token = token_of(paid_order(client, clock, "A-2"))  # Gold: points_per_unit 0, no discount
    html = client.get(f"/c/{token}").get_data(as_text=True)
    assert '<p id="tier">Gold</p>' in html
